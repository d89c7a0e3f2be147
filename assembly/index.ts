// The Wasm module's exports. JS (src/kernels/) owns the memory: it grows it, places inputs and outputs,
// and passes pointers; nothing here allocates.
export { channelStatsScalar, channelStatsExact } from './channel-stats-scalar';
export { channelStatsRunsSimd } from './channel-stats-runs';
export { channelStatsColumnsSimd } from './channel-stats-columns';
export { histogram, histogramBytes } from './histogram';
export { runAbsMax } from './run-absmax';
export { gridAbsMax } from './grid-absmax';
export { scaleRuns } from './scale-runs';
export { scaleGrid } from './scale-grid';
export { quantErrors, quantErrorsColumns } from './quant-error';
export { blockQuantError, blockQuantErrorScalar, blockScratchFloats } from './block-quant-error';
export { runSums } from './run-sums';
export { runAbsMaxScalar, gridAbsMaxScalar, scaleRunsScalar, scaleGridScalar, runSumsScalar } from './cle-scalar';
export { quantizeChannels, quantizeBlocks, blockRanges } from './quantize';
export { clipSearchChannels, clipSearchChannelsScalar, clipSearchBlocks, clipSearchBlocksScalar } from './clip-search';
export { hqqZeroPoints, hqqZeroPointsScalar } from './hqq-zero-points';
export { gramMatrix } from './gram';
export { symmetricEigen } from './symmetric-eigen';
export { singularVectors } from './singular-vectors';
