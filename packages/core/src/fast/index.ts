export { CatalogIndex, type SharedCatalogIndex } from "./catalog-index.js";
export { type CatalogScan, scanCatalogFast } from "./catalog-scan.js";
export { CompactKpis, type CompactTransfer, transferList } from "./compact.js";
export { DuplicateFilter, TripleSet } from "./dedup.js";
export { ByteInterner, type SharedInterner } from "./interner.js";
export { type ByteSpan, mergeRanges, planRanges, rangeReadStart, scanStreamsRange } from "./ranges.js";
export {
  FastPathUnsupported,
  parseStreamsHeader,
  type RangeResult,
  type ScanRange,
  type StreamsHeader,
  StreamsScanner,
  scanStreamsFast,
} from "./scan.js";
