#!/usr/bin/env node
// `npx offseg …`: runs the TypeScript CLI through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../lib/cli/main.ts');
