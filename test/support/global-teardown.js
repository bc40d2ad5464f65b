import { tsImport } from 'tsx/esm/api';

const { default: teardown } = await tsImport('./test-teardown.ts', import.meta.url);
export default teardown;
