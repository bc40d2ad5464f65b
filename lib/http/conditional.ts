/**
 * Entity tags and conditional requests (RFC 9110 §8.8.3, §13): a cat's ETag is
 * its version, quoted. `If-Match` makes PATCH and DELETE apply only to the
 * version the client saw (412 otherwise); `If-None-Match` lets GET answer 304.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { maxInteger } from '../fields.js';
import { fieldProblem } from './problem.js';
import { header } from './request.js';

export function etagOf(version: number): string {
  return `"${version}"`;
}

interface EntityTag {
  weak: boolean;
  opaque: string;
}

/**
 * One element of an RFC 9110 list (§5.6.1): an entity-tag (§8.8.3), whose
 * quoted part may hold commas (etagc is any visible character but DQUOTE),
 * followed by optional white space and a comma or the end. Empty elements
 * (`"1", , "2"`) are allowed and ignored, as the list rule asks of recipients.
 */
const listElement = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e]*)")?[ \t]*(,|$)/y;

/** The entity tags of a list, or undefined when it is not one. */
export function parseEntityTags(value: string): EntityTag[] | undefined {
  const tags: EntityTag[] = [];
  listElement.lastIndex = 0;
  for (;;) {
    const start = listElement.lastIndex;
    const match = listElement.exec(value);
    if (!match || (match[0] === '' && start < value.length)) return undefined;
    if (match[2] !== undefined) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    if (match[3] === '') return tags;
  }
}

/** `*`, a list of entity tags, or undefined when the header is absent. */
function preconditionHeader(
  event: APIGatewayProxyEventV2,
  name: 'if-match' | 'if-none-match',
): '*' | EntityTag[] | undefined {
  const value = header(event, name);
  if (value === undefined) return undefined;
  if (value.trim() === '*') return '*';
  const tags = parseEntityTags(value);
  if (tags === undefined || tags.length === 0) {
    throw fieldProblem('header', name, 'must be * or a list of entity tags such as "3"');
  }
  return tags;
}

/**
 * The versions an `If-Match` header allows, or undefined when any existing
 * version will do (no header, or `*`: a missing cat is a 404 either way).
 * Strong comparison: a weak tag never matches.
 */
export function ifMatchVersions(event: APIGatewayProxyEventV2): number[] | undefined {
  const condition = preconditionHeader(event, 'if-match');
  if (condition === undefined || condition === '*') return undefined;
  // A tag that is not a version this API could have issued (a weak one, text,
  // a number beyond the version column's integer range) matches no row: it
  // never reaches the database, where an out-of-range integer is an error.
  return condition
    .filter((tag) => !tag.weak && /^[1-9][0-9]{0,9}$/.test(tag.opaque) && Number(tag.opaque) <= maxInteger)
    .map((tag) => Number(tag.opaque));
}

/** Whether `If-None-Match` matches the current version (weak comparison), so GET may answer 304. */
export function ifNoneMatchHits(event: APIGatewayProxyEventV2, version: number): boolean {
  const condition = preconditionHeader(event, 'if-none-match');
  if (condition === undefined) return false;
  return condition === '*' || condition.some((tag) => tag.opaque === String(version));
}
