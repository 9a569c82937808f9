import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../../../src/errors.js';
import {
  HOST_ALLOWED,
  HOST_FOREIGN,
  HOST_MALFORMED,
  HostAllowlist,
  type MachineNames,
  parseAllowedHost,
  thisMachine,
} from '../../../src/proxy/guards/host-allowlist.js';

const MACHINE: MachineNames = {
  hostnames: ['Login01.Cluster.Example.org'],
  addresses: ['127.0.0.1', '10.1.2.3', '::1', 'fe80::1%eth0', '2001:db8::7'],
};

function allowlist(bindHost: string | undefined, allowHosts: string[] = []) {
  return new HostAllowlist({
    bindHost,
    allowHosts: allowHosts.map(parseAllowedHost),
    machine: MACHINE,
  });
}

function verdicts(list: HostAllowlist, hosts: string[]) {
  return Object.fromEntries(hosts.map((host) => [host, list.check(host)]));
}

describe('HostAllowlist', () => {
  test('local names pass with any port, as SSH forwarding, curl, the SDKs and the pools send them', () => {
    const list = allowlist('127.0.0.1');
    for (const host of [
      'localhost:9090',
      'localhost:8888',
      'localhost',
      '127.0.0.1:9090',
      '127.0.0.1',
      '127.0.1.1:9090',
      '[::1]:9090',
      '[::1]',
      '[::ffff:127.0.0.1]:9090',
      'LOCALHOST:9090',
      'login01.cluster.example.org:9090',
      'login01:9090',
    ]) {
      assert.equal(list.check(host), HOST_ALLOWED, host);
    }
  });

  test('names a rebinding page can use are refused', () => {
    const list = allowlist('127.0.0.1');
    for (const host of [
      'attacker.example:9090',
      'attacker.example',
      '127.0.0.1.attacker.example:9090',
      '127.attacker.example',
      'localhost.attacker.example:9090',
      'evil-localhost:9090',
      'login01.attacker.example',
      '10.1.2.3:9090',
      '[2001:db8::7]:9090',
      '0.0.0.0:9090',
    ]) {
      assert.equal(list.check(host), HOST_FOREIGN, host);
    }
  });

  test('malformed Host values are told apart', () => {
    const list = allowlist('127.0.0.1');
    for (const host of [
      '',
      ':9090',
      'localhost:',
      'localhost:90x',
      'localhost:123456',
      'localhost:9090:1',
      '[::1',
      '[::1]x',
      '[::1]:',
      'localhost 9090',
    ]) {
      assert.notEqual(list.check(host), HOST_ALLOWED, host);
    }
    assert.deepEqual(verdicts(list, ['', ':9090', 'localhost:', '[::1', '[::1]x']), {
      '': HOST_MALFORMED,
      ':9090': HOST_MALFORMED,
      'localhost:': HOST_MALFORMED,
      '[::1': HOST_MALFORMED,
      '[::1]x': HOST_MALFORMED,
    });
  });

  test('bound to every interface: the interface addresses and 0.0.0.0 pass; scoped IPv6 is skipped', () => {
    const list = allowlist('0.0.0.0');
    for (const host of ['10.1.2.3:9090', '[2001:db8::7]:9090', '0.0.0.0:9090', 'localhost:9090']) {
      assert.equal(list.check(host), HOST_ALLOWED, host);
    }
    assert.equal(list.check('10.1.2.4:9090'), HOST_FOREIGN);
    assert.ok(!list.names.some((name) => name.includes('%')), list.names.join(' '));
    assert.equal(allowlist('::').check('[2001:db8::7]:9090'), HOST_ALLOWED);
  });

  test('bound to one address: that address (IPv6 in brackets), not the others', () => {
    assert.equal(allowlist('10.1.2.3').check('10.1.2.3:9090'), HOST_ALLOWED);
    assert.equal(allowlist('10.1.2.3').check('[2001:db8::7]:9090'), HOST_FOREIGN);
    assert.equal(allowlist('2001:db8::7').check('[2001:db8::7]:9090'), HOST_ALLOWED);
    assert.equal(allowlist('gateway-facing.example').check('gateway-facing.example'), HOST_ALLOWED);
  });

  test('a Unix socket only: local names and the machine name, no bind address', () => {
    const list = allowlist(undefined);
    assert.equal(list.check('localhost'), HOST_ALLOWED);
    assert.equal(list.check('login01:9090'), HOST_ALLOWED);
    assert.equal(list.check('10.1.2.3'), HOST_FOREIGN);
  });

  test('--allow-host adds names and .domains; * accepts anything', () => {
    const list = allowlist('127.0.0.1', [
      'gateway.site.gov',
      '.alcf.example',
      '192.168.7.7',
      '::2',
    ]);
    for (const host of [
      'gateway.site.gov',
      'Gateway.Site.Gov:443',
      'alcf.example:9090',
      'polaris.alcf.example:9090',
      'a.b.alcf.example',
      '192.168.7.7:9090',
      '[::2]:9090',
    ]) {
      assert.equal(list.check(host), HOST_ALLOWED, host);
    }
    for (const host of ['xalcf.example', 'alcf.example.attacker.example', 'site.gov']) {
      assert.equal(list.check(host), HOST_FOREIGN, host);
    }
    const any = allowlist('127.0.0.1', ['*']);
    assert.equal(any.acceptsAny, true);
    assert.equal(any.check('attacker.example:9090'), HOST_ALLOWED);
    assert.equal(any.check(''), HOST_ALLOWED);
  });

  test('parseAllowedHost: names, addresses and domains in Host form; ports, schemes and junk refused', () => {
    assert.equal(parseAllowedHost(' Gateway.Example '), 'gateway.example');
    assert.equal(parseAllowedHost('::1'), '[::1]');
    assert.equal(parseAllowedHost('[2001:DB8::1]'), '[2001:db8::1]');
    assert.equal(parseAllowedHost('.example.org'), '.example.org');
    assert.equal(parseAllowedHost('*'), '*');
    for (const [value, hint] of [
      ['gateway.example:8443', /without a port/],
      ['https://gateway.example', /without a scheme/],
      ['', /expected a host name/],
      ['a b', /expected a host name/],
      ['-bad.example', /expected a host name/],
      [42, /expected a host name/],
    ] as const) {
      assert.throws(
        () => parseAllowedHost(value),
        (error: unknown) =>
          error instanceof InvalidOptionError &&
          error.message.includes('--allow-host') &&
          hint.test(error.message),
        String(value),
      );
    }
  });

  test('thisMachine reads the real host name and interface addresses', () => {
    const machine = thisMachine();
    assert.ok(machine.hostnames[0] !== undefined && machine.hostnames[0] !== '');
    assert.ok(machine.addresses.includes('127.0.0.1'), machine.addresses.join(' '));
    // The default list (the real machine) accepts this machine's own name.
    const list = new HostAllowlist({ bindHost: '127.0.0.1', allowHosts: [] });
    assert.equal(list.check(`${machine.hostnames[0]}:9090`), HOST_ALLOWED);
  });
});
