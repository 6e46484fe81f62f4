/**
 * Draws a certificate as an A4 landscape PDF (PDF/A-2b flavour: embedded subset fonts, sRGB
 * output intent, XMP metadata) with pdfkit. The QR code is drawn as vector squares so it stays
 * sharp in print and adds only a few hundred bytes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as fontkit from 'fontkit';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { ROOT } from '../../core/config';
import { fill, type CertificateTemplate } from './templates';

const FONT_DIR = path.join(ROOT, 'certificates', 'fonts');
const FONT_REGULAR = path.join(FONT_DIR, 'DejaVuSans-Latin.ttf');
const FONT_BOLD = path.join(FONT_DIR, 'DejaVuSans-Bold-Latin.ttf');

/**
 * Parsed once per process and shared by every document: pdfkit would otherwise re-parse the
 * font and its OpenType tables for each certificate, which was most of the rendering time.
 * Each document still embeds its own subset of the glyphs it uses.
 */
let fonts: { regular: fontkit.Font; bold: fontkit.Font } | undefined;
function sharedFonts() {
  return (fonts ??= { regular: openFont(FONT_REGULAR), bold: openFont(FONT_BOLD) });
}

function openFont(file: string): fontkit.Font {
  const font = fontkit.create(readFileSync(file));
  // fontkit caches each glyph with the characters it was first looked up for. A glyph first met
  // as a part of another (N inside Ñ, while subsetting) would be cached with none, and later
  // documents would lose it from their text layer. Meeting every character once, here, first
  // gives every glyph its own characters.
  font.layout(String.fromCodePoint(...font.characterSet));
  return font;
}

export interface CertificateContent {
  kind: 'course' | 'path';
  language: 'es' | 'pt' | 'en';
  learnerName: string;
  title: string;
  hours: number;
  /** Percent, 0..100, when the course was scored. */
  score?: number;
  completedAt: Date;
  institution: string;
  code: string;
  verifyUrl: string;
}

// Intl formatters are costly to build and immutable: one per language.
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

export function formatDate(d: Date, lang: string): string {
  let f = dateFormats.get(lang);
  if (!f) dateFormats.set(lang, (f = new Intl.DateTimeFormat(lang, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })));
  return f.format(d);
}

export function formatHours(h: number, lang: string): string {
  let f = numberFormats.get(lang);
  if (!f) numberFormats.set(lang, (f = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 })));
  return f.format(h);
}

/** Groups the code in fours for people who copy it by hand. */
export function groupCode(code: string): string {
  return code.replace(/(.{4})(?=.)/g, '$1 ');
}

export async function renderCertificatePdf(tpl: CertificateTemplate, content: CertificateContent): Promise<Buffer> {
  // Names typed on some systems arrive decomposed (e + combining accent); the font subset has precomposed letters.
  const c = {
    ...content,
    learnerName: content.learnerName.normalize('NFC'),
    title: content.title.normalize('NFC'),
    institution: content.institution.normalize('NFC'),
  };
  const texts = tpl.texts[c.language];
  const { regular, bold } = sharedFonts();
  const L = tpl.layout;
  const doc = new PDFDocument({
    size: 'A4',
    layout: 'landscape',
    margin: 0,
    // Our font as the default, so pdfkit does not load Helvetica's metrics for nothing.
    font: regular as never,
    pdfVersion: '1.7',
    subset: 'PDF/A-2b',
    tagged: false,
    compress: true,
    lang: c.language,
    displayTitle: true,
    info: {
      Title: `${c.kind === 'path' ? texts.pathHeading : texts.heading} — ${c.learnerName}`,
      Author: c.institution,
      Subject: c.title,
      Keywords: c.code,
      Creator: 'LMS certificates',
      CreationDate: c.completedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.registerFont('regular', regular as never);
  doc.registerFont('bold', bold as never);
  const W = doc.page.width;
  const H = doc.page.height;
  const m = L.margin;

  // Frame: an outer rule in the primary colour and a thin inner one in the accent colour.
  doc
    .lineWidth(L.border)
    .strokeColor(tpl.colours.primary)
    .rect(m, m, W - 2 * m, H - 2 * m)
    .stroke();
  doc
    .lineWidth(0.8)
    .strokeColor(tpl.colours.accent)
    .rect(m + 8, m + 8, W - 2 * m - 16, H - 2 * m - 16)
    .stroke();

  const inner = m + 40;
  const width = W - 2 * inner;
  let y = m + 34;
  if (tpl.logoData) {
    doc.image(tpl.logoData, W / 2 - L.logoWidth / 2, y, { width: L.logoWidth });
    y += L.logoWidth + 10;
  }
  doc.font('bold').fontSize(13).fillColor(tpl.colours.primary).text(c.institution, inner, y, { width, align: 'center' });
  y = doc.y + 14;
  doc
    .font('bold')
    .fontSize(L.headingSize)
    .fillColor(tpl.colours.primary)
    .text(c.kind === 'path' ? texts.pathHeading : texts.heading, inner, y, { width, align: 'center' });
  y = doc.y + 12;
  doc.font('regular').fontSize(13).fillColor(tpl.colours.muted).text(texts.intro, inner, y, { width, align: 'center' });
  y = doc.y + 6;
  doc.font('bold').fontSize(L.nameSize).fillColor(tpl.colours.text).text(c.learnerName, inner, y, { width, align: 'center' });
  y = doc.y + 6;
  doc
    .font('regular')
    .fontSize(13)
    .fillColor(tpl.colours.muted)
    .text(c.kind === 'path' ? texts.pathLine : texts.courseLine, inner, y, { width, align: 'center' });
  y = doc.y + 6;
  doc.font('bold').fontSize(L.titleSize).fillColor(tpl.colours.primary).text(c.title, inner, y, { width, align: 'center' });
  y = doc.y + 10;
  // A path whose courses the catalog no longer knows has no hours to state: better none than "0".
  const facts = c.hours > 0 ? [fill(texts.hours, { hours: formatHours(c.hours, c.language) })] : [];
  if (c.score !== undefined) facts.push(fill(texts.score, { score: formatHours(c.score, c.language) }));
  facts.push(fill(texts.date, { date: formatDate(c.completedAt, c.language) }));
  doc.font('regular').fontSize(12).fillColor(tpl.colours.text).text(facts.join('   ·   '), inner, y, { width, align: 'center' });

  // Bottom band: signatory on the left, verification (code, URL, QR) on the right.
  const qr = L.qrSize;
  const bottom = H - m - 30;
  const sigX = inner;
  const sigW = 260;
  doc
    .lineWidth(0.8)
    .strokeColor(tpl.colours.text)
    .moveTo(sigX, bottom - 34)
    .lineTo(sigX + sigW, bottom - 34)
    .stroke();
  doc
    .font('bold')
    .fontSize(11)
    .fillColor(tpl.colours.text)
    .text(tpl.signatory.name, sigX, bottom - 28, { width: sigW, align: 'center' });
  doc
    .font('regular')
    .fontSize(10)
    .fillColor(tpl.colours.muted)
    .text(tpl.signatory.title[c.language], sigX, doc.y + 1, { width: sigW, align: 'center' });

  const qrX = W - inner - qr;
  const qrY = bottom - qr;
  drawQr(doc, c.verifyUrl, qrX, qrY, qr);
  const vW = 300;
  const vX = qrX - vW - 12;
  doc
    .font('regular')
    .fontSize(9)
    .fillColor(tpl.colours.muted)
    .text(texts.code, vX, qrY + 4, { width: vW, align: 'right' });
  // The code must stay on one line to be read and typed back: 32 wide capitals (M, W) at 11 pt
  // are wider than the column, so the size comes down until this code fits.
  const grouped = groupCode(c.code);
  doc.font('bold');
  let codeSize = 11;
  while (codeSize > 7 && doc.fontSize(codeSize).widthOfString(grouped) > vW) codeSize -= 0.5;
  doc
    .fontSize(codeSize)
    .fillColor(tpl.colours.text)
    .text(grouped, vX, doc.y + 1, { width: vW, align: 'right' });
  doc
    .font('regular')
    .fontSize(9)
    .fillColor(tpl.colours.muted)
    .text(texts.verifyAt, vX, doc.y + 6, { width: vW, align: 'right' });
  doc
    .font('regular')
    .fontSize(8)
    .fillColor(tpl.colours.primary)
    .text(c.verifyUrl, vX, doc.y + 1, { width: vW, align: 'right', link: c.verifyUrl });

  doc.end();
  return done;
}

function drawQr(doc: PDFKit.PDFDocument, text: string, x: number, y: number, size: number): void {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const n = qr.modules.size;
  const quiet = 2;
  const cell = size / (n + 2 * quiet);
  doc.rect(x, y, size, size).fill('#ffffff');
  doc.fillColor('#000000');
  for (let r = 0; r < n; r++) {
    // Runs of dark modules become one rectangle: fewer operators, smaller file.
    let c = 0;
    while (c < n) {
      if (!qr.modules.get(r, c)) {
        c++;
        continue;
      }
      let end = c;
      while (end < n && qr.modules.get(r, end)) end++;
      doc.rect(x + (quiet + c) * cell, y + (quiet + r) * cell, (end - c) * cell, cell);
      c = end;
    }
  }
  doc.fill('#000000');
}
