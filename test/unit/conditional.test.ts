import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ifMatchVersions, ifNoneMatchHits, parseEntityTags } from '../../lib/http/conditional.js';
import { HttpProblem } from '../../lib/http/problem.js';

const event = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayProxyEventV2;

describe('parseEntityTags (RFC 9110 §8.8.3 entity-tags in a §5.6.1 list)', () => {
  it.each([
    ['"a,b"', [{ weak: false, opaque: 'a,b' }]],
    [
      '"a,b", "1"',
      [
        { weak: false, opaque: 'a,b' },
        { weak: false, opaque: '1' },
      ],
    ],
    [
      'W/",", "2"',
      [
        { weak: true, opaque: ',' },
        { weak: false, opaque: '2' },
      ],
    ],
    ['""', [{ weak: false, opaque: '' }]],
    [
      '"1",,\t"2" ,',
      [
        { weak: false, opaque: '1' },
        { weak: false, opaque: '2' },
      ],
    ],
  ])('reads %j as its entity tags, commas inside quotes included', (value, tags) => {
    expect(parseEntityTags(value)).toEqual(tags);
  });

  it.each(['1', '"unterminated', 'W/1', '"a" "b"', '"a"b', 'W/', '"a", W/', '"a\\"b"', '"é"'])(
    'finds no list in the malformed %j',
    (value) => {
      expect(parseEntityTags(value)).toBeUndefined();
    },
  );
});

describe('conditional headers', () => {
  it('lets If-Match "a,b", "7" allow version 7 alone (strong comparison, the text tag matches nothing)', () => {
    expect(ifMatchVersions(event({ 'if-match': '"a,b", "7"' }))).toEqual([7]);
    expect(ifMatchVersions(event({ 'if-match': '"a,b"' }))).toEqual([]);
  });

  it('lets If-None-Match "a,b", "1" hit version 1 and miss version 2', () => {
    expect(ifNoneMatchHits(event({ 'if-none-match': '"a,b", "1"' }), 1)).toBe(true);
    expect(ifNoneMatchHits(event({ 'if-none-match': '"a,b", "1"' }), 2)).toBe(false);
  });

  it.each([',', ' , ', '"1" x'])('refuses the list %j with a 400 naming the header', (value) => {
    let thrown: unknown;
    try {
      ifMatchVersions(event({ 'if-match': value }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpProblem);
    expect((thrown as HttpProblem).status).toBe(400);
    expect(JSON.stringify((thrown as HttpProblem).errors)).toContain('if-match');
  });
});
