import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatLogLine, ProxyLogger, parseLogLevel } from '../../src/proxy/proxy-logger.js';

describe('proxy logger', () => {
  test('formats lines like the usage guide, in local time', () => {
    const date = new Date(2025, 0, 15, 10, 0, 0);
    assert.equal(
      formatLogLine(date, 'INFO', 'Proxy started — listening on 0.0.0.0:9090 with 4 agent(s)'),
      '2025-01-15 10:00:00 [INFO] aurora_swarm.proxy: Proxy started — listening on 0.0.0.0:9090 with 4 agent(s)\n',
    );
  });

  test('filters by level', () => {
    const lines: string[] = [];
    const logger = new ProxyLogger('WARNING', (line) => lines.push(line));
    logger.debug('d');
    logger.info('i');
    logger.warning('w');
    logger.error('e');
    logger.critical('c');
    assert.deepEqual(
      lines.map((line) => line.replace(/^.*\[(\w+)\] aurora_swarm\.proxy: (.*)\n$/, '$1 $2')),
      ['WARNING w', 'ERROR e', 'CRITICAL c'],
    );
    assert.equal(logger.isEnabled('DEBUG'), false);
    assert.equal(logger.isEnabled('ERROR'), true);
  });

  test('parses level names in any case', () => {
    assert.equal(parseLogLevel('debug'), 'DEBUG');
    assert.equal(parseLogLevel('Warning'), 'WARNING');
    assert.equal(parseLogLevel('warn'), 'WARNING');
    assert.equal(parseLogLevel('CRITICAL'), 'CRITICAL');
    assert.equal(parseLogLevel('verbose'), undefined);
  });
});
