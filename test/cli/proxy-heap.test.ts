import assert from 'node:assert/strict';
import { test } from 'node:test';
import { userSetPretenuring } from '../../src/cli/proxy-heap.js';

test("the proxy's pretenuring flag yields to the user's own", () => {
  assert.equal(userSetPretenuring([], undefined), false);
  assert.equal(
    userSetPretenuring(['--max-semi-space-size=64'], '--max-old-space-size=4096'),
    false,
  );
  assert.equal(userSetPretenuring(['--allocation-site-pretenuring'], undefined), true);
  assert.equal(userSetPretenuring(['--no-allocation_site_pretenuring'], undefined), true);
  assert.equal(userSetPretenuring([], '--allocation-site-pretenuring'), true);
});
