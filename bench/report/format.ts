/** The report's number and table formatting, shared by its sections. */
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
export const fixed = (value: number, digits = 0): string =>
  Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
export const percent = (value: number): string => `${fixed(value * 100)}%`;

export function table(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): string {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
