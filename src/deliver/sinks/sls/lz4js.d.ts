// lz4js ships no types; only what the SLS sink and its tests use.
declare module 'lz4js' {
  interface Lz4js {
    compressBound(n: number): number;
    /** Raw LZ4 block of src[sIndex, sIndex+sLength) into dst; 0 when it found nothing to compress. */
    compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
    /** Decodes a raw block; returns the end index in dst. */
    decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
  }
  const lz4: Lz4js;
  export default lz4;
}
