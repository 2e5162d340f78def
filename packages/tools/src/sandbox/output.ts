/**
 * Keeps at most `limit` bytes of a stream: the first half and the last half. Whatever a child
 * writes, the memory held stays bounded; the middle is dropped and counted.
 */
export class OutputCapture {
  readonly #headLimit: number;
  readonly #tailLimit: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(limit: number) {
    this.#headLimit = Math.ceil(limit / 2);
    this.#tailLimit = limit - this.#headLimit;
  }

  /** Bytes the stream produced, kept or not. */
  get totalBytes(): number {
    return this.#total;
  }

  get truncated(): boolean {
    return this.#total > this.#headLimit + this.#tailLimit;
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#headLimit) {
      const take = Math.min(this.#headLimit - this.#headBytes, rest.length);
      this.#head.push(rest.subarray(0, take));
      this.#headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0 || this.#tailLimit === 0) return;
    if (rest.length >= this.#tailLimit) {
      // Copy so a large chunk's buffer is not pinned for the sake of its last bytes.
      this.#tail = [Buffer.from(rest.subarray(rest.length - this.#tailLimit))];
      this.#tailBytes = this.#tailLimit;
      return;
    }
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    while (this.#tailBytes > this.#tailLimit) {
      const first = this.#tail[0]!;
      const excess = this.#tailBytes - this.#tailLimit;
      if (first.length <= excess) {
        this.#tail.shift();
        this.#tailBytes -= first.length;
      } else {
        this.#tail[0] = first.subarray(excess);
        this.#tailBytes -= excess;
      }
    }
  }

  /** The kept text; when cut, head and tail with a marker naming how many bytes were dropped. */
  text(): string {
    const head = Buffer.concat(this.#head).toString('utf8');
    if (!this.truncated) return head + Buffer.concat(this.#tail).toString('utf8');
    const omitted = this.#total - this.#headBytes - this.#tailBytes;
    return `${head}\n…[${omitted} bytes omitted]…\n${Buffer.concat(this.#tail).toString('utf8')}`;
  }
}
