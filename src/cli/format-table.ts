/**
 * Plain-text tables for the CLI: columns padded to their widest cell, ANSI colour codes
 * ignored when measuring.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escape sequences is the point
const ANSI = /\u001B\[[0-9;]*m/g;

/** Length of `text` on a terminal: colour codes do not count. */
export function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Render `rows` under `headers`, two spaces between columns, no trailing blanks. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = headers.map((header, column) =>
    Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : cell + ' '.repeat((widths[column] ?? 0) - visibleLength(cell)),
      )
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
