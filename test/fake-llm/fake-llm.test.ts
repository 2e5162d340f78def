import OpenAI from '../../packages/agent/node_modules/openai/index.mjs';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from './server.js';

// The fake must refuse what the real API refuses, or the agent tests built on it prove nothing.
describe('fake OpenAI-compatible server', () => {
  let fake: FakeLlm;
  afterEach(() => fake.close());

  const post = (body: unknown) =>
    fetch(`${fake.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('answers the openai client with a scripted completion and records the request', async () => {
    fake = await startFakeLlm([{ content: 'hi', usage: { prompt_tokens: 3, completion_tokens: 2 } }]);
    const client = new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-test', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hello' }] });
    expect(r.choices[0]).toMatchObject({ message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' });
    expect(r.usage).toMatchObject({ total_tokens: 5 });
    expect(fake.chatRequests[0]!.body.messages).toEqual([{ role: 'user', content: 'hello' }]);
    expect(fake.chatRequests[0]!.headers.authorization).toBe('Bearer sk-test');
  });

  it.each([
    ['a tool message with no preceding tool_call', [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'c1', content: 'r' }], "must be a response to a preceeding message with 'tool_calls'"],
    ['a tool message answering an unknown id', [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c2', content: 'r' },
    ], "must be a response to a preceeding message with 'tool_calls'"],
    ['a tool_call left unanswered before a user message', [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'c2', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'r' },
      { role: 'user', content: 'y' },
    ], 'did not have response messages: c2'],
    ['a tool_call left unanswered at the end', [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
    ], 'did not have response messages: c1'],
    ['an invalid role', [{ role: 'robot', content: 'x' }], "Invalid value for 'messages[0].role'"],
    ['no messages', [], 'empty array'],
  ])('rejects %s with 400 and an OpenAI error body', async (_name, messages, message) => {
    fake = await startFakeLlm([{ content: 'never sent' }]);
    const res = await post({ model: 'm', messages });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: expect.stringContaining(message), type: 'invalid_request_error', param: expect.anything(), code: null } });
    expect(fake.rejected).toHaveLength(1);
  });

  const user = [{ role: 'user', content: 'x' }];
  const fn = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } };
  const call = (id: string) => ({ id, type: 'function', function: { name: 'f', arguments: '{}' } });
  it.each([
    ['tool_choice without tools', { tool_choice: 'auto' }, "'tool_choice' is only allowed when 'tools' are specified"],
    ['an empty tools list', { tools: [] }, "Invalid 'tools': empty array"],
    ['an assistant message with an empty tool_calls list', { messages: [...user, { role: 'assistant', content: null, tool_calls: [] }] }, "Invalid 'messages[1].tool_calls': empty array"],
    ['a tool message with null content', { messages: [...user, { role: 'assistant', content: null, tool_calls: [call('c1')] }, { role: 'tool', tool_call_id: 'c1', content: null }] }, "'messages[2].content'"],
    ['a tool_call without type', { messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', function: { name: 'f', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'c1', content: 'r' }] }, "'messages[1].tool_calls[0].type'"],
    ['a tool_call without function', { messages: [...user, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function' }] }, { role: 'tool', tool_call_id: 'c1', content: 'r' }] }, "'messages[1].tool_calls[0].function'"],
    ['duplicate tool_call ids', { messages: [...user, { role: 'assistant', content: null, tool_calls: [call('c1'), call('c1')] }, { role: 'tool', tool_call_id: 'c1', content: 'r' }, { role: 'tool', tool_call_id: 'c1', content: 'r' }] }, 'Duplicate'],
    ['temperature above 2', { temperature: 5 }, "'temperature'"],
    ['temperature below 0', { temperature: -0.1 }, "'temperature'"],
  ])('rejects %s with 400', async (_name, extra, message) => {
    fake = await startFakeLlm([{ content: 'never sent' }]);
    const res = await post({ model: 'm', messages: user, ...extra });
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toContain(message);
  });

  it('accepts tools with tool_choice and a temperature in 0..2', async () => {
    fake = await startFakeLlm([{ content: 'ok' }]);
    expect((await post({ model: 'm', messages: user, tools: [fn], tool_choice: 'auto', temperature: 2 })).status).toBe(200);
  });

  it('rejects a request without a model, and answers 400 when the script is exhausted', async () => {
    fake = await startFakeLlm([]);
    expect((await post({ messages: [{ role: 'user', content: 'x' }] })).status).toBe(400);
    const exhausted = await post({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(exhausted.status).toBe(400);
    expect(fake.rejected.map((r) => r.problem)).toEqual(['you must provide a model parameter', 'script exhausted']);
  });

  it('accepts a valid tool round trip and scripts errors with headers', async () => {
    fake = await startFakeLlm([{ status: 429, headers: { 'retry-after': '2' } }, (req) => ({ content: `saw ${req.body.messages.length}` })]);
    const messages = [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'r' },
      { role: 'user', content: 'fix it' },
    ];
    const limited = await post({ model: 'm', messages });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    const ok = await post({ model: 'm', messages });
    expect(ok.status).toBe(200);
    expect((await ok.json()).choices[0].message.content).toBe('saw 4');
  });
});
