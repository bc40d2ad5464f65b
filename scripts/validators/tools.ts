/** The packages whose verdict the tests rely on; package.json pins each exactly. */
export const validationTools = [
  'aws-cdk-lib',
  'cdk-nag',
  'constructs',
  '@aws/cloudformation-validate',
  '@stoplight/spectral-cli',
  '@redocly/cli',
];
