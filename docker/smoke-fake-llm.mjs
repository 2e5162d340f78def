// A two-turn OpenAI-compatible chat server for docker/smoke.sh, so `mini-agent run` in the image
// can be tested with no model: the first turn asks for exec_python, the second answers with what
// the tool printed. It listens on loopback inside the gateway container's network namespace.
//
// Usage: node smoke-fake-llm.mjs <port>
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 9999);
// Bounded: the smoke test needs two turns; anything past a few means the agent loops.
let remaining = 8;

function completion(message, finishReason) {
  return {
    id: `chatcmpl-smoke-${remaining}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: 'smoke',
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > 1_000_000) req.destroy();
  });
  req.on('end', () => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions') || remaining-- <= 0) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
      return;
    }
    const messages = JSON.parse(body).messages ?? [];
    const last = messages.at(-1);
    const reply = last?.role === 'tool'
      ? completion({ role: 'assistant', content: `The tool said: ${last.content}` }, 'stop')
      : completion({
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'exec_python', arguments: JSON.stringify({ code: 'print(2**100)' }) } }],
        }, 'tool_calls');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
  });
});
server.listen(port, '127.0.0.1');
