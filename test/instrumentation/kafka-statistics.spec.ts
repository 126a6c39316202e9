// librdkafka's statistics document summarised to what an operator acts on. The sample's shape
// is librdkafka's (STATISTICS.md): bootstrap brokers have node id -1, times are microseconds.
import { describe, expect, it } from 'vitest';
import { summariseStatistics } from '../../src/instrumentation/kafka-statistics.js';

const consumer = {
  name: 'scribe-bank-consumer#consumer-3',
  client_id: 'scribe-bank-consumer',
  type: 'consumer',
  msg_cnt: 42,
  msg_size: 10_752,
  brokers: {
    '127.0.0.1:9092/bootstrap': { nodeid: -1, nodename: '127.0.0.1:9092', outbuf_cnt: 0, waitresp_cnt: 0, rtt: { avg: 0, p99: 0 } },
    '127.0.0.1:9092/1': { nodeid: 1, nodename: '127.0.0.1:9092', outbuf_cnt: 3, waitresp_cnt: 1, rtt: { avg: 1_250, p99: 8_191 } },
    'GroupCoordinator': { nodeid: -1, nodename: 'GroupCoordinator', outbuf_cnt: 0, waitresp_cnt: 0 },
  },
  topics: {
    'bank.events': { partitions: { '0': { consumer_lag: 120 }, '1': { consumer_lag: -1 }, '2': { consumer_lag: 30 }, '-1': { consumer_lag: 999 } } },
  },
};

describe('Kafka client statistics', () => {
  it("keeps queue depth, each real broker's round trip in seconds and requests waiting, and the consumer's lag", () => {
    expect(summariseStatistics(JSON.stringify(consumer))).toEqual({
      client: 'scribe-bank-consumer',
      role: 'consumer',
      queuedMessages: 42,
      queuedBytes: 10_752,
      brokers: [{ broker: '127.0.0.1:9092', rttAvgSeconds: 0.00125, rttP99Seconds: 0.008191, requestsQueued: 3, requestsInFlight: 1 }],
      // Unknown lag (-1) and librdkafka's internal partition (-1) are left out.
      consumerLag: 150,
    });
  });

  it('reports no consumer lag for a producer, and nothing for text that is not a statistics document', () => {
    const producer = summariseStatistics(JSON.stringify({ ...consumer, type: 'producer', client_id: 'scribe-bank-p0-txn-producer' }));
    expect(producer).toMatchObject({ role: 'producer', client: 'scribe-bank-p0-txn-producer' });
    expect(producer).not.toHaveProperty('consumerLag');
    expect(summariseStatistics('not json')).toBeUndefined();
    expect(summariseStatistics('null')).toBeUndefined();
  });
});
