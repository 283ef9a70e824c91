/** The CLI's command table. Each command parses its flags and calls the library. */
import { paramsCommand, forwardCommand } from './model_commands.ts';
import { flopsCommand } from './flops_command.ts';
import { trainCommand, evalCommand } from './train_commands.ts';
import { gradStepCommand } from './grad_step_command.ts';
import { exportCommand } from './export_command.ts';
import { plotLogCommand } from './plot_log_command.ts';
import { browseDatasetCommand } from './browse_dataset_command.ts';
import { predictCommand } from './predict_command.ts';
import { sweepCommand, workerCommand } from './sweep_command.ts';

import type { Command } from './command.ts';

export type { Command };

export const COMMANDS: Record<string, Command> = {
  params: paramsCommand,
  forward: forwardCommand,
  flops: flopsCommand,
  train: trainCommand,
  eval: evalCommand,
  'grad-step': gradStepCommand,
  export: exportCommand,
  'plot-log': plotLogCommand,
  'browse-dataset': browseDatasetCommand,
  predict: predictCommand,
  sweep: sweepCommand,
  worker: workerCommand,
};
