// Jest loads global setup files with Node's own ESM loader, which cannot
// resolve our TypeScript imports; tsx's scoped loader does, without affecting
// how Jest itself loads the tests.
import { tsImport } from 'tsx/esm/api';

const { default: setup } = await tsImport('./test-setup.ts', import.meta.url);
export default setup;
