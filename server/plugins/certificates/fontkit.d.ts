// fontkit (pdfkit's font engine) ships no types; these are the calls the renderer makes.
declare module 'fontkit' {
  export interface Font {
    characterSet: number[];
    layout(text: string): unknown;
  }
  export function create(buffer: Uint8Array, postscriptName?: string): Font;
}
