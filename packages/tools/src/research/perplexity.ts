import { Type, type Static } from 'typebox';
import type { ToolDefinition } from '../tool.js';
import { endpoint, httpPolicy, orFailure } from './failure.js';
import { clip, requestJson, UpstreamError } from './http.js';
import { DEFAULT_PPLX_API_BASE, DEFAULT_PPLX_MODEL, type PerplexityOptions, type ResearchOptions } from './options.js';

const DEFAULT_MAX_TOKENS = 1024;
const MAX_CITATIONS = 50;
const MAX_URL_CHARS = 2048;

export const PerplexityArgs = Type.Object(
  {
    query: Type.String({ description: 'The question to research on the web, in plain language.', minLength: 1, maxLength: 8000 }),
    max_tokens: Type.Optional(
      Type.Integer({ description: `Longest answer, in tokens (default ${DEFAULT_MAX_TOKENS}).`, minimum: 1, maximum: 4096 }),
    ),
  },
  { additionalProperties: false },
);
export type PerplexityArgs = Static<typeof PerplexityArgs>;

/** One source of the answer; `n` is the number the answer cites it by (`[n]`). */
export interface Citation {
  n: number;
  url: string;
  title?: string;
  date?: string;
}

interface SearchResult {
  url?: unknown;
  title?: unknown;
  date?: unknown;
}

/**
 * `research_perplexity`: one question to Perplexity's Sonar (`POST {base}/chat/completions`).
 * `data` is `{ok, answer, citations: [{n, url, title?, date?}], model, truncated}`; `text` is the
 * answer followed by a numbered `Sources:` list, the way the answer's `[n]` marks refer to them.
 */
export function perplexityTool(options: PerplexityOptions, research: ResearchOptions = {}): ToolDefinition<PerplexityArgs> {
  const policy = httpPolicy(research);
  const url = endpoint(options.baseUrl ?? DEFAULT_PPLX_API_BASE, '/chat/completions');
  const model = options.model ?? DEFAULT_PPLX_MODEL;
  return {
    name: 'research_perplexity',
    description:
      'Ask a question that needs current information from the web. Returns a short answer with ' +
      'numbered citations [n] and the list of their source URLs.',
    parameters: PerplexityArgs,
    run: (args, ctx) =>
      orFailure(async () => {
        const body = await requestJson(
          {
            service: 'Perplexity',
            url,
            method: 'POST',
            apiKey: options.apiKey,
            body: {
              model,
              messages: [
                { role: 'system', content: 'Be precise and concise. Cite your sources.' },
                { role: 'user', content: args.query },
              ],
              max_tokens: args.max_tokens ?? DEFAULT_MAX_TOKENS,
            },
          },
          policy,
          ctx.signal,
        );
        const response = body as { choices?: { message?: { content?: unknown } }[]; citations?: unknown; search_results?: unknown; model?: unknown };
        const content = response.choices?.[0]?.message?.content;
        if (typeof content !== 'string') {
          throw new UpstreamError('Perplexity', 'invalid_response', 'Perplexity answered without choices[0].message.content');
        }
        const citations = citationsOf(response.citations, response.search_results);
        const sources = citations.map((c) => `[${c.n}] ${c.title === undefined ? '' : `${c.title} — `}${c.url}`).join('\n');
        const tail = sources === '' ? '' : `\n\nSources:\n${sources}`;
        // The sources are kept whole; the answer gives way when the result is too long.
        const answer = clip(content, Math.max(1000, policy.maxResultChars - tail.length));
        const text = clip(answer.text + tail, policy.maxResultChars);
        return {
          text: text.text,
          data: {
            ok: true,
            answer: answer.text,
            citations,
            model: typeof response.model === 'string' ? response.model : model,
            truncated: answer.clipped || text.clipped,
          },
        };
      }),
  };
}

/**
 * The sources as the API gives them: `citations` (URLs, the numbering of `[n]`) enriched with the
 * titles and dates of `search_results`; `search_results` alone when `citations` is absent.
 */
function citationsOf(citations: unknown, searchResults: unknown): Citation[] {
  const results = (Array.isArray(searchResults) ? searchResults : []).filter(
    (r): r is SearchResult => typeof r === 'object' && r !== null && typeof (r as SearchResult).url === 'string',
  );
  const urls = Array.isArray(citations)
    ? citations.filter((c): c is string => typeof c === 'string')
    : results.map((r) => r.url as string);
  return urls.slice(0, MAX_CITATIONS).map((url, i) => {
    const match = results.find((r) => r.url === url);
    const citation: Citation = { n: i + 1, url: url.slice(0, MAX_URL_CHARS) };
    if (typeof match?.title === 'string' && match.title !== '') citation.title = match.title.slice(0, 300);
    if (typeof match?.date === 'string' && match.date !== '') citation.date = match.date.slice(0, 40);
    return citation;
  });
}
