/**
 * The study's go/no-go gate on the shared pretraining: variants compared on a backbone that has
 * not learned the data would differ by noise, so the study stops instead.
 */
import { log, type PretrainResult } from './results.ts';
import { proxyProtocol } from './protocol.ts';

/** Thrown when the pretrained backbone is too weak for the variants' differences to mean anything. */
export class ProxyGateError extends Error {
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'ProxyGateError';
    this.hint = hint;
  }
}

/**
 * The go/no-go gate of the study: in full mode the pretraining's val mIoU must reach the
 * protocol's `pretrainGate`, else no variant is trained (quick mode only proves the pipeline
 * runs, so it is not gated).
 * @throws ProxyGateError below the gate.
 */
export function checkGate(pre: PretrainResult, resultPath: string): PretrainResult {
  const gate = proxyProtocol().pretrainGate;
  if (pre.mode === 'full' && !(pre.mIoU >= gate))
    throw new ProxyGateError(
      `proxy pretraining reached ${pre.mIoU} val mIoU, below the gate of ${gate} (${resultPath}): the variants would be compared on a backbone that has not learned the data`,
      'lengthen schedule.iterations in configs/proxy/pretrain.json (or change pretrainGate in configs/proxy/protocol.json and say why), then re-run',
    );
  log(
    `pretraining gate: val mIoU ${pre.mIoU} ${pre.mode === 'full' ? `≥ ${gate}` : '(quick mode: not gated)'}`,
  );
  return pre;
}
