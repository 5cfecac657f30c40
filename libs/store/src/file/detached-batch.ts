import { fdatasync } from 'node:fs';
import type { AppendTransaction } from '../event-store.port';
import { BatchChain, LineBatch } from './log-format';
import { writeFullySync } from './write-fully-sync';

/**
 * Where a file store transaction's lines go when another thread writes them (FileAppendTransaction.detach): the
 * log's file descriptor (a process's descriptors are shared by its threads), the byte offset and position after the
 * committed log, and the chain there (hex). Plain data: it crosses to a worker thread as a message.
 */
export interface DetachedBatchStart {
  fd: number;
  offset: number;
  position: number;
  chain: string;
  /** Bytes of lines between checkpoint records (BatchChain; Infinity or absent: none, a version-2 log). */
  checkpointBytes?: number;
}

/** What a DetachedBatchWriter wrote: up to `offset` and `position`, `events` event lines (and `checkpoints` records), and the chain after them (hex) — what the commit record carries. */
export interface DetachedBatchEnd {
  offset: number;
  position: number;
  events: number;
  chain: string;
  /** Checkpoint records written among the lines (each a line of the log). */
  checkpoints?: number;
}

/** Bytes of lines gathered before a write (one pwrite each). */
const WRITE_BYTES = 1 << 20;

/**
 * A transaction's event lines written outside the store (the decode thread of `clearsim run`): the same lines as the
 * store's own writer (LineBatch), hashed into the chain and written with synchronous `pwrite`s after the committed
 * log — the store's commitDetached writes the commit record after them and fsyncs once, exactly as a transaction of
 * its own. Nothing here makes the lines part of the log: a crash leaves them after the last commit record, cut off on
 * the next writer's open.
 *
 * With `syncEvery`, every that many bytes written it also starts an `fdatasync` in the background (libuv's pool),
 * one at a time, so that the commit's fsync finds little left to write (~70 ms for the 145 MB of the 10^6-event
 * day's log otherwise, all of it at the end of the run). A background sync's error fails the writer: `settled()`
 * rejects with it and `finish()` throws it — after a failed fsync the kernel may have dropped the pages it could not
 * write and report nothing to the next one, so the commit must not follow.
 */
export class DetachedBatchWriter {
  private readonly lines = new LineBatch();
  private offset: number;
  /** The position of the last line added. */
  private last: number;
  private readonly chain: BatchChain;
  /** Bytes written since the last background sync began. */
  private unsynced = 0;
  /** The background sync in flight. */
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  constructor(
    private readonly start: DetachedBatchStart,
    private syncEvery = Infinity,
  ) {
    this.offset = start.offset;
    this.last = start.position;
    this.chain = new BatchChain(Buffer.from(start.chain, 'hex'), start.checkpointBytes ?? Infinity);
  }

  /** The next line: an event whose canonical JSON `json[start, end)` has the CRC-32 `crc` (LineBatch.addEncoded). */
  addEncoded(json: Uint8Array, start: number, end: number, crc: number): void {
    this.lines.addEncoded(++this.last, json, start, end, crc);
    if (this.lines.length >= WRITE_BYTES) this.write();
  }

  /** The next line: an event whose canonical JSON is the text `json` (LineBatch.add). */
  addJson(json: string): void {
    this.lines.add(++this.last, json);
    if (this.lines.length >= WRITE_BYTES) this.write();
  }

  /** The next line: an event whose canonical JSON is the UTF-8 bytes `json[start, end)` (LineBatch.addJsonBytes). */
  addJsonBytes(json: Uint8Array, start: number, end: number): void {
    this.lines.addJsonBytes(++this.last, json, start, end);
    if (this.lines.length >= WRITE_BYTES) this.write();
  }

  /** Hashes and writes every line added so far. */
  write(): void {
    if (this.lines.length === 0) return;
    const { buffer, last } = this.lines.lend();
    const checkpoint = this.chain.add(buffer, last);
    writeFullySync(this.start.fd, buffer, this.offset);
    this.offset += buffer.length;
    this.unsynced += buffer.length;
    if (checkpoint !== undefined) {
      writeFullySync(this.start.fd, checkpoint, this.offset);
      this.offset += checkpoint.length;
    }
    if (this.unsynced >= this.syncEvery && this.syncing === undefined && this.syncError === undefined) this.syncInBackground();
  }

  private syncInBackground(): void {
    this.unsynced = 0;
    this.syncing = new Promise((resolve) =>
      fdatasync(this.start.fd, (error) => {
        this.syncError ??= error ?? undefined;
        this.syncing = undefined;
        resolve();
      }),
    );
  }

  /** Resolves once no background sync is in flight; rejects with a background sync's error. Await it before finish(). */
  async settled(): Promise<void> {
    while (this.syncing !== undefined) await this.syncing;
    if (this.syncError !== undefined) throw this.syncError;
  }

  /** Writes what is left; answers where the lines end and the chain after them. The writer is done. */
  finish(): DetachedBatchEnd {
    if (this.syncing !== undefined) throw new Error('DetachedBatchWriter.finish with a background sync in flight: await settled() first');
    if (this.syncError !== undefined) throw this.syncError;
    // the commit's fsync writes the rest
    this.syncEvery = Infinity;
    this.write();
    return { offset: this.offset, position: this.last, events: this.last - this.start.position, chain: this.chain.digest().toString('hex'), checkpoints: this.chain.checkpoints };
  }
}

/** A transaction whose lines another writer can write (the file store's): see FileAppendTransaction.detach. */
export interface DetachableTransaction extends AppendTransaction {
  detach(): Promise<DetachedBatchStart>;
  commitDetached(end: DetachedBatchEnd): Promise<number>;
}

export const isDetachable = (transaction: AppendTransaction): transaction is DetachableTransaction =>
  typeof (transaction as Partial<DetachableTransaction>).detach === 'function' && typeof (transaction as Partial<DetachableTransaction>).commitDetached === 'function';
