import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillTemplate, formatTemplateValue } from '../../src/internal/fill-template.js';

describe('fillTemplate', () => {
  test('replaces known placeholders and leaves unknown braces alone', () => {
    assert.equal(
      fillTemplate('L{level}: {responses} {other} {}', { level: '2', responses: 'a' }),
      'L2: a {other} {}',
    );
  });

  test('never rescans inserted text', () => {
    assert.equal(
      fillTemplate('{responses} at {level}', {
        responses: 'keep {level} and {responses}',
        level: '1',
      }),
      'keep {level} and {responses} at 1',
    );
  });

  test('inserts replacement patterns literally', () => {
    assert.equal(fillTemplate('x{item}y', { item: "$& $1 $$ $'" }), "x$& $1 $$ $'y");
  });

  test('formats values for templates', () => {
    assert.equal(formatTemplateValue('text'), 'text');
    assert.equal(formatTemplateValue(42), '42');
    assert.equal(formatTemplateValue({ gene: 'TP53' }), '{"gene":"TP53"}');
    assert.equal(formatTemplateValue(null), 'null');
  });
});
