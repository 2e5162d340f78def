/** The checks the OpenAI chat API makes that an agent loop can get wrong. Returns the first problem. */
export interface Problem {
  message: string;
  param: string | null;
}

const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool', 'function']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validateChatRequest(body: unknown): Problem | undefined {
  if (!isObject(body)) return { message: 'We could not parse the JSON body of your request.', param: null };
  if (typeof body.model !== 'string' || body.model === '') return { message: 'you must provide a model parameter', param: 'model' };
  const messages = body.messages;
  if (!Array.isArray(messages)) return { message: "Missing required parameter: 'messages'.", param: 'messages' };
  if (messages.length === 0) return { message: "Invalid 'messages': empty array. Expected an array with minimum length 1.", param: 'messages' };
  if (body.stream === true) return { message: 'the fake server does not stream', param: 'stream' };
  if (body.temperature !== undefined && body.temperature !== null && (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2)) {
    return { message: `Invalid 'temperature': expected a number between 0 and 2, got ${JSON.stringify(body.temperature)}.`, param: 'temperature' };
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null && body.tools === undefined) {
    return { message: "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", param: 'tool_choice' };
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) return { message: "Invalid type for 'tools': expected an array.", param: 'tools' };
    if (body.tools.length === 0) {
      return { message: "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.", param: 'tools' };
    }
    for (const [i, t] of body.tools.entries()) {
      if (!isObject(t) || t.type !== 'function' || !isObject(t.function) || typeof t.function.name !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(t.function.name)) {
        return { message: `Invalid 'tools[${i}]': expected a function tool with a valid name.`, param: `tools[${i}]` };
      }
    }
  }
  // Tool calls of the latest assistant message still waiting for their tool message.
  let open: Set<string> | undefined;
  for (const [i, m] of messages.entries()) {
    if (!isObject(m) || typeof m.role !== 'string' || !ROLES.has(m.role)) {
      return { message: `Invalid value for 'messages[${i}].role'.`, param: `messages[${i}].role` };
    }
    if (m.role === 'tool') {
      if (typeof m.tool_call_id !== 'string') return { message: `Missing required parameter: 'messages[${i}].tool_call_id'.`, param: `messages[${i}].tool_call_id` };
      if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
        return { message: `Invalid value for 'messages[${i}].content': expected a string or an array of content parts.`, param: `messages[${i}].content` };
      }
      if (open === undefined || !open.delete(m.tool_call_id)) {
        return {
          message: "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
          param: `messages.[${i}].role`,
        };
      }
      continue;
    }
    if (open !== undefined && open.size > 0) {
      return {
        message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
        param: 'messages',
      };
    }
    open = undefined;
    if (m.role === 'assistant') {
      const calls = m.tool_calls;
      if (calls !== undefined && calls !== null) {
        if (!Array.isArray(calls)) return { message: `Invalid type for 'messages[${i}].tool_calls'.`, param: `messages[${i}].tool_calls` };
        if (calls.length === 0) {
          return { message: `Invalid 'messages[${i}].tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead.`, param: `messages[${i}].tool_calls` };
        }
        open = new Set();
        for (const [j, c] of calls.entries()) {
          const at = `messages[${i}].tool_calls[${j}]`;
          if (!isObject(c) || typeof c.id !== 'string') return { message: `Invalid '${at}': id required.`, param: at };
          if (c.type !== 'function' && c.type !== 'custom') return { message: `Missing required parameter: '${at}.type'.`, param: `${at}.type` };
          const payload = c.type === 'function' ? c.function : c.custom;
          if (!isObject(payload) || typeof payload.name !== 'string' || (c.type === 'function' && typeof payload.arguments !== 'string')) {
            return { message: `Missing required parameter: '${at}.${c.type}'.`, param: `${at}.${c.type}` };
          }
          if (open.has(c.id)) return { message: `Duplicate value for 'tool_call_id' of ${c.id} in '${at}'.`, param: `${at}.id` };
          open.add(c.id);
        }
      }
      if ((m.content === undefined || m.content === null) && open === undefined) {
        return { message: `Invalid value for 'messages[${i}].content': expected a string, got null.`, param: `messages[${i}].content` };
      }
    } else if (typeof m.content !== 'string' && !Array.isArray(m.content)) {
      return { message: `Invalid value for 'messages[${i}].content': expected a string.`, param: `messages[${i}].content` };
    }
  }
  if (open !== undefined && open.size > 0) {
    return {
      message: `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open].join(', ')}`,
      param: 'messages',
    };
  }
  return undefined;
}
