/**
 * Deterministic text and vectors for simulated agents: replies that name the agent
 * (so tests can tell who answered), tokenisation, and embeddings.
 */

// Short, true answers to the usage guide's four example prompts, so the demo reads well.
const KNOWN_TOPICS: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /lacZ/i,
    'lacZ encodes beta-galactosidase, which cleaves lactose into glucose and galactose; it is the first gene of the lac operon, induced when lactose is present and glucose is scarce.',
  ],
  [
    /sigma factor/i,
    'A sigma factor binds RNA polymerase core enzyme and directs it to specific promoter sequences (the -10 and -35 boxes), enabling transcription initiation; alternative sigma factors switch on regulons such as heat shock or sporulation genes.',
  ],
  [
    /salmonella/i,
    'Key Salmonella virulence factors include the SPI-1 and SPI-2 type III secretion systems and their effectors, flagella, fimbriae, lipopolysaccharide, and the Vi capsule in S. Typhi.',
  ],
  [
    /SOS response/i,
    'The SOS response is induced by DNA damage: RecA bound to single-stranded DNA stimulates LexA self-cleavage, derepressing genes for DNA repair, error-prone polymerases and cell-division inhibition (SulA).',
  ],
];

/** The default reply: names the agent, echoes the prompt's start, then a body. */
export function defaultReply(prompt: string, agentIndex: number, model: string): string {
  const start = prompt.replace(/\s+/g, ' ').trim().slice(0, 60);
  const known = KNOWN_TOPICS.find(([pattern]) => pattern.test(prompt));
  const body = known ? known[1] : 'This is a simulated answer from a mock vLLM agent.';
  return `Agent ${agentIndex} (${model}) on "${start}": ${body}`;
}

/** Split text into tokens that concatenate back to it: each word with its leading space. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Pad (with ` token`) or cut a token list to exactly `count` tokens. */
export function fitTokens(tokens: string[], count: number | undefined): string[] {
  if (count === undefined) return tokens;
  if (tokens.length >= count) return tokens.slice(0, count);
  const padded = tokens.slice();
  for (let index = tokens.length; index < count; index++) padded.push(' token');
  return padded;
}

/** What a reasoning model thinks before it answers (deterministic, names the agent). */
export function reasoningText(prompt: string, agentIndex: number): string {
  const start = prompt.replace(/\s+/g, ' ').trim().slice(0, 40);
  return `Agent ${agentIndex} considers "${start}" step by step before answering.`;
}

/** A unit vector determined by the text alone: the same text gives the same vector on every agent. */
export function embedText(text: string, dimensions: number): number[] {
  // FNV-1a seed, then a xorshift generator.
  let state = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    state ^= text.charCodeAt(index);
    state = Math.imul(state, 0x01000193) >>> 0;
  }
  if (state === 0) state = 1;
  const vector = new Array<number>(dimensions);
  let norm = 0;
  for (let index = 0; index < dimensions; index++) {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    const value = state / 0xffffffff - 0.5;
    vector[index] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return vector.map((value) => value * scale);
}
