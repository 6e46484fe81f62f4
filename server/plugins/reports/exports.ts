import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import PDFDocument from 'pdfkit';
import type { TFunction } from 'i18next';
import type { CsvRows } from '../../core/csv';
import type { Dashboard, Row } from './dashboard.service';

/** `fractions`: the columns holding a share as a fraction 0..1 (an XLSX cell shows it as a percentage). */
export type Table = { columns: string[]; rows: CsvRows; fractions?: number[] };

/**
 * The dashboard as one flat table: section, key, name, total, trained, share. The share is the
 * plain fraction (0.9) a spreadsheet computes with: in CSV its header says "0 to 1", in XLSX the
 * cell is a number formatted as a percentage, so 0.9 shows as 90.0 % in the reader's locale.
 */
export function summaryTable(d: Dashboard, t: TFunction, format: 'csv' | 'xlsx' = 'csv'): Table {
  const rows: unknown[][] = [];
  const add = (section: string, r: Row, label?: string) =>
    rows.push([section, r.key, label ?? r.label ?? r.key, r.total, r.trained, r.share ?? '']);
  add(t('reports:dash.all'), { key: d.scope.code, label: d.scope.name, total: d.total, trained: d.trained, share: d.share });
  add(t('reports:dash.decisionMakers'), d.decisionMakers, t('reports:dash.decisionMakers'));
  for (const r of d.byLevel) add(t('reports:dash.byLevel'), r, t(`core:levels.${r.key}`, { defaultValue: r.key }));
  for (const r of d.byTier) add(t('reports:dash.byTier'), r, t(`core:tiers.${r.key}`, { defaultValue: r.key }));
  for (const r of d.byInstitution) add(t('reports:dash.byInstitution'), r);
  for (const r of d.byUnit) add(t('reports:dash.byUnit'), r);
  for (const m of d.trend)
    rows.push([
      t('reports:dash.trend'),
      m.month,
      `${m.month} (${t(`reports:dash.trendSource.${m.source}`)})`,
      m.total,
      m.trained,
      m.share ?? '',
    ]);
  if (d.baseline)
    rows.push([
      t('reports:dash.baseline'),
      d.baseline.date,
      t('reports:dash.baselineTarget'),
      d.baseline.target,
      d.trained,
      d.baseline.progress ?? '',
    ]);
  return {
    columns: [
      t('reports:export.section'),
      t('reports:export.code'),
      t('reports:export.name'),
      t('reports:export.total'),
      t('reports:export.trained'),
      t(format === 'xlsx' ? 'reports:export.share' : 'reports:export.shareFraction'),
    ],
    rows,
    fractions: [5],
  };
}

/** XLSX written as a stream (rows committed one by one), so a national people list stays light. */
export async function writeXlsx(table: Table, sheetName: string, out: Writable): Promise<number> {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true });
  const ws = wb.addWorksheet(sheetName.slice(0, 31));
  const header = ws.addRow(table.columns);
  header.font = { bold: true };
  header.commit();
  let n = 0;
  for await (const r of table.rows) {
    const row = ws.addRow(r);
    for (const i of table.fractions ?? []) if (typeof r[i] === 'number') row.getCell(i + 1).numFmt = '0.0%';
    row.commit();
    n++;
  }
  ws.commit();
  await wb.commit();
  return n;
}

/** How the PDF writes numbers and dates: the reader's language (and the deployment's time zone). */
export interface PdfFormat {
  lang: string;
  num(n: number): string;
  pct(share: number | null | undefined): string;
  dateTime(d: Date | string): string;
}

/** A printable report for ministers: headline figures, targets, breakdown tables and the trend. */
export async function writePdf(d: Dashboard, t: TFunction, f: PdfFormat, out: Writable): Promise<void> {
  const { num, pct } = f;
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: { Title: `${t('reports:dash.title')} — ${d.scope.name}` },
    lang: f.lang,
    displayTitle: true,
    tagged: true,
  } as PDFKit.PDFDocumentOptions);
  doc.pipe(out);
  doc.fontSize(18).text(t('reports:dash.title'));
  doc
    .fontSize(11)
    .fillColor('#444')
    .text(`${d.scope.name} · ${f.dateTime(d.generatedAt)}`)
    .moveDown();
  doc
    .fillColor('#000')
    .fontSize(13)
    .text(t('reports:dash.headline', { trained: num(d.trained), total: num(d.total), share: pct(d.share) }));
  doc
    .fontSize(11)
    .text(d.total ? t('reports:dash.target80', { needed: num(d.target.needed), gap: num(d.target.gap) }) : t('reports:dash.target80Empty'));
  if (d.baseline && !d.baseline.target) doc.text(t('reports:dash.targetBaselineEmpty', { date: d.baseline.date }));
  else if (d.baseline)
    doc.text(
      t('reports:dash.targetBaseline', {
        date: d.baseline.date,
        baseline: num(d.baseline.trained),
        target: num(d.baseline.target),
        gap: num(d.baseline.gap),
      }),
    );
  doc.text(t('reports:dash.ruleText', { minHours: d.rule.minHours, validityYears: d.rule.validityYears })).moveDown();
  /** One row of four cells: label, then three right-aligned figures (also the column headers). */
  const line = (cells: [string, string, string, string]) => {
    const y = doc.y;
    doc.text(cells[0], 50, y, { width: 250 });
    const h = doc.y;
    doc.text(cells[1], 310, y, { width: 70, align: 'right' });
    doc.text(cells[2], 385, y, { width: 70, align: 'right' });
    doc.text(cells[3], 460, y, { width: 80, align: 'right' });
    doc.y = Math.max(h, doc.y);
    doc.x = 50;
  };
  const table = (title: string, rows: Array<[string, number, number, number | null]>) => {
    if (!rows.length) return;
    if (doc.y > 680) doc.addPage();
    doc.fontSize(13).text(title).fontSize(10);
    // Column headers under every table title: a printed page has no hover or caption to explain the figures.
    doc.font('Helvetica-Bold');
    line([t('reports:dash.group'), t('reports:dash.total'), t('reports:dash.trained'), t('reports:dash.share')]);
    doc.font('Helvetica');
    for (const [label, total, trained, s] of rows) {
      line([label, num(total), num(trained), pct(s)]);
      if (doc.y > 760) doc.addPage();
    }
    doc.moveDown();
  };
  table(t('reports:dash.decisionMakers'), [
    [t('reports:dash.decisionMakers'), d.decisionMakers.total, d.decisionMakers.trained, d.decisionMakers.share],
  ]);
  table(
    t('reports:dash.byLevel'),
    d.byLevel.map((r) => [t(`core:levels.${r.key}`, { defaultValue: r.key }), r.total, r.trained, r.share]),
  );
  table(
    t('reports:dash.byTier'),
    d.byTier.map((r) => [t(`core:tiers.${r.key}`, { defaultValue: r.key }), r.total, r.trained, r.share]),
  );
  table(
    t('reports:dash.byInstitution'),
    d.byInstitution.map((r) => [`${r.label} (${r.key})`, r.total, r.trained, r.share]),
  );
  table(
    t('reports:dash.byUnit'),
    d.byUnit.map((r) => [`${r.label} (${r.key})`, r.total, r.trained, r.share]),
  );
  table(
    t('reports:dash.trend'),
    d.trend.map((m) => [`${m.month} (${t(`reports:dash.trendSource.${m.source}`)})`, m.total, m.trained, m.share]),
  );
  doc.end();
  await new Promise((res) => out.once('finish', res));
}
