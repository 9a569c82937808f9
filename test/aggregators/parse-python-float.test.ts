import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePythonFloat } from '../../src/aggregators/parse-python-float.js';

test('parsePythonFloat accepts what Python float() accepts, with the same value', () => {
  const cases: [string, number][] = [
    ['1', 1],
    [' 2.5\n', 2.5],
    ['-0.5', -0.5],
    ['+.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['1_000', 1000],
    ['0_1.2_5e1_0', 1.25e10],
    ['\u0663\u0664', 34],
    ['\uff17', 7],
    ['\u0085 3 \u3000', 3],
    ['1e400', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['iNf', Number.POSITIVE_INFINITY],
  ];
  for (const [text, expected] of cases) assert.equal(parsePythonFloat(text), expected, text);
  assert.ok(Number.isNaN(parsePythonFloat('NaN')));
  assert.ok(Object.is(parsePythonFloat('-0'), -0));
});

test('parsePythonFloat rejects what Python float() rejects', () => {
  for (const text of [
    '',
    ' ',
    'abc',
    '12 apples',
    '1,000',
    '0x10',
    '1__0',
    '_1',
    '1_',
    '1_.5',
    '1._5',
    '1e',
    '.',
    'e5',
    '--1',
    'infinit',
    'nan1',
    '\ufeff1',
  ]) {
    assert.equal(parsePythonFloat(text), undefined, JSON.stringify(text));
  }
});
