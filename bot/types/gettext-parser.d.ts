// The package ships no types: the shapes of PO data that bot/locales/po.ts reads and writes.
declare module 'gettext-parser' {
  export interface PoComments {
    translator?: string;
    extracted?: string;
    reference?: string;
    flag?: string;
  }
  export interface PoMessage {
    msgctxt?: string;
    msgid: string;
    msgid_plural?: string;
    msgstr: string[];
    comments?: PoComments;
  }
  export interface PoData {
    charset?: string;
    headers: Record<string, string>;
    translations: Record<string, Record<string, PoMessage>>;
  }
  export const po: {
    parse(input: Buffer | string, options?: { validation?: boolean }): PoData;
    compile(data: PoData, options?: { foldLength?: number }): Buffer;
  };
}
