/** Writing a benchmark's results file (bench/results/<name>.json) and printing a table. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineInfo } from './machine.js';

/** bench/results in the source tree (this file runs from dist/bench/lib). */
export const RESULTS_DIRECTORY = new URL('../../../bench/results/', import.meta.url).pathname;

/** Write `bench/results/<name>.json` with the machine description, method and figures. */
export function writeResults(name: string, content: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIRECTORY, { recursive: true });
  const path = join(RESULTS_DIRECTORY, `${name}.json`);
  writeFileSync(
    path,
    `${JSON.stringify({ benchmark: name, machine: machineInfo(), ...content }, null, 2)}\n`,
  );
  return path;
}

/** A fresh scratch directory for one benchmark run (configs, scripts, hostfiles). */
export function scratchDirectory(name: string): string {
  return mkdtempSync(join(tmpdir(), `aurora-bench-${name}-`));
}

/** Print rows as an aligned text table. */
export function printTable(rows: readonly (readonly (string | number)[])[]): void {
  const text = rows.map((row) => row.map((cell) => String(cell)));
  const widths: number[] = [];
  for (const row of text)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  for (const row of text) {
    console.log(
      row
        .map((cell, index) => cell.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}

/** Log a progress line with a timestamp. */
export function log(message: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}
