import { randomInt } from 'node:crypto';

// Our own lists, in the spirit of Docker's `adjective_surname` names: adjectives
// anyone can read aloud, surnames of people who shaped computing and science.
const ADJECTIVES = [
  'agile', 'amber', 'bold', 'brave', 'bright', 'calm', 'clever', 'cosmic', 'curious', 'daring',
  'eager', 'earnest', 'fearless', 'gentle', 'glad', 'happy', 'humble', 'jolly', 'keen', 'kind',
  'lively', 'lucid', 'merry', 'mellow', 'nimble', 'noble', 'patient', 'plucky', 'proud', 'quiet',
  'quick', 'serene', 'sharp', 'shiny', 'steady', 'sunny', 'swift', 'tidy', 'upbeat', 'vivid',
  'warm', 'wise', 'witty', 'zealous', 'zen',
];

const SURNAMES = [
  'allen', 'babbage', 'backus', 'bartik', 'berners_lee', 'borg', 'cerf', 'codd', 'conway', 'curie',
  'dijkstra', 'easley', 'engelbart', 'euler', 'feynman', 'floyd', 'goldberg', 'hamilton', 'hopper', 'johnson',
  'kahan', 'karp', 'knuth', 'lamport', 'liskov', 'lovelace', 'mccarthy', 'meitner', 'minsky', 'noether',
  'pike', 'ritchie', 'shannon', 'sutherland', 'tarjan', 'thompson', 'torvalds', 'turing', 'wilkes',
  'wing', 'wirth', 'yonath',
];

/**
 * randomName returns a Docker-style container name, `adjective_surname`; with
 * retry > 0 a digit is appended (Docker does the same when a name is taken).
 */
export function randomName(retry = 0): string {
  const name = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}

/** VALID_NAME is Docker's rule for container names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
