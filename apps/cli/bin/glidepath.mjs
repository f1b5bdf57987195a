#!/usr/bin/env node
// The `glidepath` command: runs the TypeScript entry with tsx's loader (the workspace ships sources).
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
