/** Training kernels missing from the stock WASM backend. Filled in by issue #5. */
export function registerWasmTrainingKernels(): void {}
