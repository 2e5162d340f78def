import type { ToolDefinition } from '../tool.js';
import { context7Tool } from './context7.js';
import type { ResearchOptions } from './options.js';
import { perplexityTool } from './perplexity.js';

/** The research tools `options` configures; none when it configures none. */
export function researchTools(options: ResearchOptions = {}): ToolDefinition<never>[] {
  const tools: ToolDefinition<never>[] = [];
  if (options.perplexity !== undefined) tools.push(perplexityTool(options.perplexity, options) as ToolDefinition<never>);
  if (options.context7 !== undefined) tools.push(context7Tool(options.context7, options) as ToolDefinition<never>);
  return tools;
}

export * from './options.js';
export { perplexityTool, PerplexityArgs, type Citation } from './perplexity.js';
export { context7Tool, Context7Args, type DocSnippet } from './context7.js';
export { requestJson, UpstreamError, type HttpPolicy, type UpstreamFailure, type UpstreamRequest } from './http.js';
