/**
 * Writes a report folder: report.md (the DDPG paper's Table 1 for the given runs: normalised R_av /
 * R_best, raw returns, seeds, steps, references and published numbers), report.json (the same
 * data), and per row a learning-curve figure as SVG and PNG. PNGs are the SVGs drawn by headless
 * Chromium (the browser the studio already drives through playwright-core).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Report, ReportRow } from '../api/scores.ts';
import { curveSvg, figureName } from '../api/report-svg.ts';
import { CHROMIUM_ARGS, findChromium } from '../render/headless.ts';

function num(v: number | null, digits: number): string {
  return v === null ? '–' : v.toFixed(digits);
}

/** One markdown table cell's text: pipes would end the cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function reportMarkdown(report: Report, opts: { command?: string; generated: string }): string {
  const lines: string[] = [];
  lines.push('# Normalised scores (DDPG paper, Table 1 style)', '');
  lines.push(`Generated ${opts.generated}${opts.command ? ` by \`${opts.command}\`` : ''}.`, '');
  lines.push(
    'Scores are normalised so that uniformly random actions score 0 and a planner with the true model scores 1 ' +
      "(references from `references.json` beside each env; this studio's planner is MPPI on MuJoCo, not the paper's iLQG). " +
      "Per run, R_av is the mean evaluation return over training and R_best the best; over seeds, R_av is the mean and R_best the best of the runs'. " +
      "The published DDPG numbers are for the paper's own models of these tasks (its task name is given), after up to 2.5M steps; CURL's State SAC are raw dm_control returns.",
    '',
  );
  lines.push('| task | algo | obs | seeds | steps | R_av | R_best | R_av raw | R_best raw | final raw | random | planner | published |');
  lines.push('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of report.rows) {
    lines.push(
      `| ${cell(r.env)} | ${r.algo} | ${r.obs} | ${r.seeds.join(', ')} | ${r.steps}${r.steps < r.targetSteps ? ` of ${r.targetSteps}` : ''} | ${num(r.rAv, 3)} | ${num(r.rBest, 3)} | ${num(r.rAvRaw, 1)} | ${num(r.rBestRaw, 1)} | ${num(r.finalRaw, 1)} | ` +
        `${r.reference ? r.reference.random_return.toFixed(1) : '–'} | ${r.reference ? r.reference.planner_return.toFixed(1) : '–'} | ${cell(r.published.map((p) => `${p.source}: ${p.value}`).join('; ') || '–')} |`,
    );
  }
  lines.push('');
  const noRef = report.rows.filter((r) => !r.reference).map((r) => r.env);
  if (noRef.length)
    lines.push(
      `No references yet for ${[...new Set(noRef)].join(', ')}: run \`rl-studio baseline --env ID --save\` to normalise them.`,
      '',
    );
  if (report.skipped.length) {
    lines.push('Left out:', '');
    for (const s of report.skipped) lines.push(`- ${s.run}: ${s.reason}`);
    lines.push('');
  }
  lines.push('## Learning curves', '');
  lines.push(
    'Mean evaluation return over seeds, the band from the lowest to the highest seed; dashed: the random policy (red) and the planner (green).',
    '',
  );
  for (const r of report.rows) {
    lines.push(
      `### ${r.env} · ${r.algo} · ${r.obs}`,
      '',
      `![${r.env} ${r.algo} ${r.obs}](figures/${figureName(r)}.png)`,
      '',
      `Runs: ${r.runs.join(', ')}`,
      '',
    );
  }
  return lines.join('\n');
}

/** Draws each SVG in one headless Chromium page and screenshots it at twice its size. */
async function svgsToPngs(svgs: string[]): Promise<Buffer[]> {
  if (svgs.length === 0) return [];
  const browser = await chromium.launch({ executablePath: findChromium(), args: [...CHROMIUM_ARGS] });
  try {
    const page = await browser.newPage({ viewport: { width: 640, height: 360 }, deviceScaleFactor: 2 });
    const out: Buffer[] = [];
    for (const svg of svgs) {
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      out.push(await page.locator('svg').screenshot({ type: 'png' }));
    }
    return out;
  } finally {
    await browser.close();
  }
}

export interface WrittenReport {
  dir: string;
  markdown: string;
  json: string;
  figures: { row: string; svg: string; png: string }[];
}

export async function writeReport(report: Report, outDir: string, opts: { command?: string } = {}): Promise<WrittenReport> {
  const dir = resolve(outDir);
  const figuresDir = join(dir, 'figures');
  mkdirSync(figuresDir, { recursive: true });
  const generated = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const markdown = join(dir, 'report.md');
  writeFileSync(markdown, reportMarkdown(report, { ...opts, generated }));
  const json = join(dir, 'report.json');
  writeFileSync(json, JSON.stringify({ generated, ...report }, null, 1) + '\n');
  const svgs = report.rows.map((r: ReportRow) => curveSvg(r));
  const pngs = await svgsToPngs(svgs);
  const figures = report.rows.map((r, i) => {
    const stem = join(figuresDir, figureName(r));
    writeFileSync(`${stem}.svg`, svgs[i]);
    writeFileSync(`${stem}.png`, pngs[i]);
    return { row: figureName(r), svg: `${stem}.svg`, png: `${stem}.png` };
  });
  return { dir, markdown, json, figures };
}
