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

const entityTag = /^(W\/)?"([\x21\x23-\x7e]*)"$/;

/** `*`, a list of entity tags, or undefined when the header is absent. */
function preconditionHeader(
  event: APIGatewayProxyEventV2,
  name: 'if-match' | 'if-none-match',
): '*' | EntityTag[] | undefined {
  const value = header(event, name);
  if (value === undefined) return undefined;
  if (value.trim() === '*') return '*';
  return value.split(',').map((part) => {
    const match = entityTag.exec(part.trim());
    if (!match) throw fieldProblem('header', name, 'must be * or a list of entity tags such as "3"');
    return { weak: match[1] !== undefined, opaque: match[2] ?? '' };
  });
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
