// @digitalbazaar/bitstring ships no types; these are the calls the status list makes.
declare module '@digitalbazaar/bitstring' {
  export class Bitstring {
    constructor(options: { length: number });
    set(position: number, on: boolean): void;
    get(position: number): boolean;
    /** GZIP-compressed, then base64url (no padding). */
    encodeBits(): Promise<string>;
  }
}
