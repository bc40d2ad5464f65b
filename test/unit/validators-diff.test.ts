/**
 * `npm run validators:latest` reports what the latest versions of the
 * validation tools change: the findings only they report, the ones they no
 * longer report, and the versions (scripts/validators/diff.ts).
 */
import { diffFindings, formatDiff, versionLines } from '../../scripts/validators/diff.js';

describe('diffFindings', () => {
  it('reports the findings only the latest versions give as added, and the ones they dropped as removed', () => {
    const pinned = ['cdk-nag dev: AwsSolutions-VPC7 on Vpc', 'spectral: info-contact at info'];
    const latest = [
      'cdk-nag dev: Serverless-LambdaLatestVersion on GetCatLambdaFunction',
      'spectral: info-contact at info',
    ];
    expect(diffFindings(pinned, latest)).toEqual({
      added: ['cdk-nag dev: Serverless-LambdaLatestVersion on GetCatLambdaFunction'],
      removed: ['cdk-nag dev: AwsSolutions-VPC7 on Vpc'],
    });
  });

  it('counts a finding given more often by the latest versions, as two templates with the same resource do', () => {
    const finding = 'cdk-nag prod: AwsSolutions-L1 on MigrateLambdaFunction';
    expect(diffFindings([finding], [finding, finding, finding])).toEqual({ added: [finding, finding], removed: [] });
    expect(diffFindings([finding, finding], [finding])).toEqual({ added: [], removed: [finding] });
  });

  it('finds nothing changed when both runs report the same findings in another order', () => {
    expect(diffFindings(['b', 'a', 'a'], ['a', 'b', 'a'])).toEqual({ added: [], removed: [] });
    expect(diffFindings([], [])).toEqual({ added: [], removed: [] });
  });

  it('sorts what it reports, so that two runs print the same report', () => {
    expect(diffFindings([], ['z', 'a', 'm']).added).toEqual(['a', 'm', 'z']);
  });
});

describe('the report', () => {
  it('names each tool with its pinned and latest version, or one version when they agree', () => {
    expect(
      versionLines({ 'cdk-nag': '3.0.2', 'aws-cdk-lib': '2.276.0' }, { 'cdk-nag': '3.0.2', 'aws-cdk-lib': '2.278.0' }),
    ).toEqual(['  aws-cdk-lib 2.276.0 -> 2.278.0', '  cdk-nag = 3.0.2']);
  });

  it('says the verdict does not change when no finding does', () => {
    expect(formatDiff({ added: [], removed: [] }, [])).toContain('changes no verdict');
  });

  it('lists each added finding with + and each removed one with -, with their counts', () => {
    const report = formatDiff({ added: ['x on A', 'y on B'], removed: ['z on C'] }, ['  cdk-nag = 3.0.2']);
    expect(report.split('\n')).toEqual([
      'Validation tools, pinned -> latest:',
      '  cdk-nag = 3.0.2',
      'New with the latest versions (2): the tests would fail on these until fixed or explained',
      '  + x on A',
      '  + y on B',
      'Gone with the latest versions (1):',
      '  - z on C',
    ]);
  });
});
