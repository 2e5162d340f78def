import { Type, type Static } from 'typebox';
import type { ToolDefinition } from '../tool.js';
import { endpoint, httpPolicy, orFailure } from './failure.js';
import { clip, requestJson, UpstreamError } from './http.js';
import { DEFAULT_C7_API_BASE, type Context7Options, type ResearchOptions } from './options.js';

const DEFAULT_MAX_SNIPPETS = 5;
const MAX_SNIPPETS = 20;
const MAX_SNIPPET_CHARS = 4000;
const MAX_ALTERNATIVES = 4;
/** A Context7 library id such as `/vercel/next.js` or `/vercel/next.js/v14.3.0`: no search needed. */
const LIBRARY_ID = /^\/[\w.-]+\/[\w.-]+(\/[\w.-]+)?$/;

export const Context7Args = Type.Object(
  {
    library: Type.String({
      description: 'Library name to look up (e.g. "react", "fastapi"), or a Context7 id such as "/facebook/react".',
      minLength: 1,
      maxLength: 200,
    }),
    topic: Type.String({ description: 'What you need to know, e.g. "useEffect cleanup".', minLength: 1, maxLength: 1000 }),
    max_snippets: Type.Optional(
      Type.Integer({ description: `Most snippets to return (default ${DEFAULT_MAX_SNIPPETS}).`, minimum: 1, maximum: MAX_SNIPPETS }),
    ),
  },
  { additionalProperties: false },
);
export type Context7Args = Static<typeof Context7Args>;

/** One piece of documentation: a code example (with its description) or a prose passage. */
export interface DocSnippet {
  kind: 'code' | 'info';
  title: string;
  content: string;
  /** Where Context7 took it from (a page or snippet id). */
  source?: string;
}

interface LibraryHit {
  id: string;
  title: string;
  description?: string;
}

/**
 * `research_context7_docs`: current documentation of a library from Context7. Resolves the
 * library (`GET {base}/api/v2/libs/search`), then fetches the snippets for the topic
 * (`GET {base}/api/v2/context?type=json`). `data` is `{ok, library: {id, title}, snippets:
 * [{kind, title, content, source?}], alternatives, truncated}`; `text` is the snippets as Markdown.
 */
export function context7Tool(options: Context7Options, research: ResearchOptions = {}): ToolDefinition<Context7Args> {
  const policy = httpPolicy(research);
  const base = options.baseUrl ?? DEFAULT_C7_API_BASE;
  return {
    name: 'research_context7_docs',
    description:
      'Fetch up-to-date documentation and code examples of a software library for a topic. ' +
      'Use it before writing code against an API you are not sure of.',
    parameters: Context7Args,
    run: (args, ctx) =>
      orFailure(async () => {
        let library: LibraryHit;
        let alternatives: string[] = [];
        if (LIBRARY_ID.test(args.library)) {
          library = { id: args.library, title: args.library };
        } else {
          const url = endpoint(base, '/api/v2/libs/search');
          url.searchParams.set('libraryName', args.library);
          url.searchParams.set('query', args.topic);
          const hits = hitsOf(await requestJson({ service: 'Context7', url, method: 'GET', apiKey: options.apiKey }, policy, ctx.signal));
          const first = hits[0];
          if (first === undefined) {
            const message = `Context7 knows no library matching "${args.library}"; try another name or its id (/org/project)`;
            return { text: JSON.stringify({ ok: false, reason: 'not_found', message }), data: { ok: false, reason: 'not_found', message } };
          }
          library = first;
          alternatives = hits.slice(1, 1 + MAX_ALTERNATIVES).map((h) => h.id);
        }

        const url = endpoint(base, '/api/v2/context');
        url.searchParams.set('libraryId', library.id);
        url.searchParams.set('query', args.topic);
        url.searchParams.set('type', 'json');
        const body = await requestJson({ service: 'Context7', url, method: 'GET', apiKey: options.apiKey }, policy, ctx.signal);
        const all = snippetsOf(body);
        const snippets = all.slice(0, args.max_snippets ?? DEFAULT_MAX_SNIPPETS);
        let cut = all.length > snippets.length;
        for (const s of snippets) {
          const c = clip(s.content, MAX_SNIPPET_CHARS);
          s.content = c.text;
          cut ||= c.clipped;
        }
        const text = clip(render(library, snippets, alternatives), policy.maxResultChars);
        return {
          text: text.text,
          data: { ok: true, library, snippets, alternatives, truncated: cut || text.clipped },
        };
      }),
  };
}

/** Search hits, best first: the API answers `{results: [...]}` (a bare array is taken too). */
function hitsOf(body: unknown): LibraryHit[] {
  const results = Array.isArray(body) ? body : (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results)) throw new UpstreamError('Context7', 'invalid_response', 'Context7 search answered without `results`');
  const hits: LibraryHit[] = [];
  for (const r of results as { id?: unknown; title?: unknown; name?: unknown; description?: unknown }[]) {
    if (typeof r?.id !== 'string' || !r.id.startsWith('/')) continue;
    const title = typeof r.title === 'string' ? r.title : typeof r.name === 'string' ? r.name : r.id;
    const hit: LibraryHit = { id: r.id.slice(0, 300), title: title.slice(0, 300) };
    if (typeof r.description === 'string' && r.description !== '') hit.description = r.description.slice(0, 500);
    hits.push(hit);
  }
  return hits;
}

interface ApiCodeSnippet {
  codeTitle?: unknown;
  codeDescription?: unknown;
  codeId?: unknown;
  pageTitle?: unknown;
  codeList?: { language?: unknown; code?: unknown }[];
}

interface ApiInfoSnippet {
  breadcrumb?: unknown;
  content?: unknown;
  pageId?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Code snippets first (what a coding model needs most), then prose, as Context7 ranked them. */
function snippetsOf(body: unknown): DocSnippet[] {
  const { codeSnippets, infoSnippets } = (body ?? {}) as { codeSnippets?: unknown; infoSnippets?: unknown };
  if (!Array.isArray(codeSnippets) && !Array.isArray(infoSnippets)) {
    throw new UpstreamError('Context7', 'invalid_response', 'Context7 context answered without `codeSnippets` or `infoSnippets`');
  }
  const out: DocSnippet[] = [];
  for (const s of (Array.isArray(codeSnippets) ? codeSnippets : []) as ApiCodeSnippet[]) {
    const blocks = (Array.isArray(s?.codeList) ? s.codeList : [])
      .filter((c) => typeof c?.code === 'string')
      .map((c) => `\`\`\`${str(c.language) ?? ''}\n${c.code as string}\n\`\`\``);
    const description = str(s?.codeDescription);
    const content = [description, ...blocks].filter((x) => x !== undefined).join('\n\n');
    if (content === '') continue;
    const snippet: DocSnippet = { kind: 'code', title: str(s.codeTitle) ?? str(s.pageTitle) ?? 'Example', content };
    const source = str(s.codeId);
    if (source !== undefined) snippet.source = source;
    out.push(snippet);
  }
  for (const s of (Array.isArray(infoSnippets) ? infoSnippets : []) as ApiInfoSnippet[]) {
    const content = str(s?.content);
    if (content === undefined) continue;
    const snippet: DocSnippet = { kind: 'info', title: str(s.breadcrumb) ?? 'Documentation', content };
    const source = str(s.pageId);
    if (source !== undefined) snippet.source = source;
    out.push(snippet);
  }
  return out;
}

function render(library: LibraryHit, snippets: DocSnippet[], alternatives: string[]): string {
  const parts = [`# ${library.title} (${library.id})`];
  if (snippets.length === 0) parts.push('No documentation snippets matched this topic; try other words.');
  for (const s of snippets) {
    parts.push(`## ${s.title}\n${s.content}${s.source === undefined ? '' : `\nSource: ${s.source}`}`);
  }
  if (alternatives.length > 0) parts.push(`Other matching libraries: ${alternatives.join(', ')}`);
  return parts.join('\n\n');
}
