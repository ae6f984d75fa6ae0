/** Bundles run on ADO's Node20_1 handler: no production dependency may require a newer Node. */
import assert from 'node:assert/strict';
import { enginesProblems, OLDEST_NODE } from '../../scripts/check-engines';

describe('contract: dependency engines', () => {
  it(`every production dependency allows Node ${OLDEST_NODE}`, () => {
    assert.deepEqual(enginesProblems(), [], 'pin these to versions whose engines allow Node 20 (package.json overrides)');
  });
});
