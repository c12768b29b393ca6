// Declaration shim: @digitalbazaar/vc-bitstring-status-list ships no types (used as a test oracle).
declare module '@digitalbazaar/vc-bitstring-status-list' {
  export class BitstringStatusList {
    constructor(options?: { length?: number; buffer?: Uint8Array });
    readonly length: number;
    setStatus(index: number, status: boolean): void;
    getStatus(index: number): boolean;
    encode(): Promise<string>;
  }
  export function decodeList(options: { encodedList: string }): Promise<BitstringStatusList>;
  export function checkStatus(
    options: Record<string, unknown>,
  ): Promise<{ verified: boolean; error?: unknown }>;
}
