import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where each suite file writes its figures (git-ignored; see wiki/reliability.md). */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

/** One table row: column name → value. */
export type Row = Record<string, string | number | boolean | null>;

/** The figures one suite file produced, read back by scripts/reliability-report.mjs. */
export interface SuiteResults {
  /** `kill-points`, `hostile-inputs`, … */
  readonly suite: string;
  /** `fast` (npm test) or `long` (npm run test:reliability). */
  readonly variant: 'fast' | 'long';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly node: string;
  /** Parameters of the run (seed, counts) so a figure can be reproduced. */
  readonly params: Record<string, unknown>;
  /** The headline numbers (cases run, kills survived, inputs refused…). */
  readonly summary: Record<string, number | string>;
  readonly rows: readonly Row[];
}

/** Collects the rows of one suite file, prints them as a table and writes the JSON. */
export class Results {
  readonly rows: Row[] = [];
  private readonly startedAt = new Date().toISOString();

  constructor(
    readonly suite: string,
    readonly variant: 'fast' | 'long',
    readonly params: Record<string, unknown> = {},
  ) {}

  add(row: Row): void {
    this.rows.push(row);
  }

  /** Print the table (stdout: it is the suite's output) and write results/<variant>-<suite>.json. */
  async finish(title: string, summary: Record<string, number | string>): Promise<void> {
    console.log(renderTable(`${title} (${this.variant}${seedNote(this.params)})`, this.rows));
    console.log(
      Object.entries(summary)
        .map(([k, v]) => `  ${k}: ${v}`)
        .join('\n'),
    );
    const results: SuiteResults = {
      suite: this.suite,
      variant: this.variant,
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      node: process.version,
      params: this.params,
      summary,
      rows: this.rows,
    };
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, `${this.variant}-${this.suite}.json`), `${JSON.stringify(results, null, 2)}\n`);
  }
}

function seedNote(params: Record<string, unknown>): string {
  return params.seed === undefined ? '' : `, seed ${String(params.seed)}`;
}

/** A plain-text table with a header row, columns padded to their widest cell. */
export function renderTable(title: string, rows: readonly Row[]): string {
  if (rows.length === 0) return `${title}: no rows`;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : v === true ? 'yes' : v === false ? 'NO' : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [
    title,
    line(columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line(columns.map((c) => cell(r[c])))),
  ].join('\n');
}
