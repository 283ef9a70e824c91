/**
 * Dataset label converters from the shell (mmseg's tools/dataset_converters equivalents):
 *   npx tsx lib/data/convert_cli.ts cityscapes <cityscapes root> [--overwrite]
 *   npx tsx lib/data/convert_cli.ts coco-stuff164k <coco_stuff164k root> [--overwrite]
 */
import { convertCityscapes, convertCocoStuff164k } from './converters.ts';
import { DatasetError } from './errors.ts';

async function main(argv: string[]): Promise<number> {
  const [kind, root] = argv.filter((a) => !a.startsWith('--'));
  const overwrite = argv.includes('--overwrite');
  const run = { cityscapes: convertCityscapes, 'coco-stuff164k': convertCocoStuff164k }[kind ?? ''];
  if (!run || !root) {
    console.error('usage: convert_cli.ts cityscapes|coco-stuff164k <dataset root> [--overwrite]');
    return 2;
  }
  const r = await run(root, {
    overwrite,
    onFile: (done, total) => {
      if (done % 500 === 0 || done === total) process.stderr.write(`\r${done}/${total}`);
    },
  });
  process.stderr.write('\n');
  console.log(`converted ${r.converted}, skipped ${r.skipped} (already present)`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof DatasetError) console.error(`error: ${e.message}`);
    else console.error(e);
    process.exit(1);
  },
);
