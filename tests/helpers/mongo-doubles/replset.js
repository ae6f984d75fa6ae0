'use strict';
/**
 * A replica set as a state machine, for the mongosh double. State in $MONGO_DOUBLE_SERVERS/replset.json (the test
 * writes and reads it):
 *
 *   { "users": { "<user>": { "password": "…", "roles": ["clusterAdmin"] } },
 *     "now": 1765100000,                     // virtual clock (seconds); only sleep() and the catch-up advance it
 *     "term": 3, "lastCommitted": { "t": 3, "ts": 1765099990 },
 *     "config": { "_id": "rs0", "version": 5, "term": 3, "protocolVersion": 1, "members": [ <member config> ], "settings": {…} },
 *     "nodes": { "<host:port>": { "state": "PRIMARY" | "SECONDARY" | "ARBITER", "down": false, "lagSeconds": 0,
 *                "stuck": false, "stepDownUntil": 0 } },
 *     "stepDownError": { "code": 24, "codeName": "LockTimeout", "errmsg": "…" },   // optional fault
 *     "events": [ "…" ] }                    // what happened, for the test to read
 *
 * Rules (MongoDB manual: replSetStepDown, replSetReconfig, Replica Set Elections, Priority):
 * - an election needs the votes of a majority of voting members; the candidate must be electable (priority > 0,
 *   votes > 0, not hidden, not an arbiter, not delayed, not in its step-down period, reachable) and as up to date as
 *   any reachable member; of those the highest priority wins (ties: lowest _id);
 * - a reachable, caught-up member of strictly higher priority than the primary takes over (priority takeover) once
 *   that has held for settings.electionTimeoutMillis of virtual time;
 * - time passes only in sleep() and in the step-down's catch-up; then members that are not `stuck` catch up one
 *   second per second;
 * - replSetStepDown waits up to secondaryCatchUpPeriodSecs for an electable secondary to catch up (a `stuck`
 *   member never does) and fails with ExceededTimeLimit (262) when none did; the old primary is not electable for
 *   the step-down period;
 * - a new primary's commit point reaches its term once a majority of data-bearing voting members replicate
 *   (`stuck` and down members do not): one virtual second after the election;
 * - replSetReconfig: on the primary only (NotWritablePrimary 10107) unless force; version must grow; at most one
 *   voting change without force; priority 0 for arbiters, hidden and non-voting members (InvalidReplicaSetConfig
 *   93); force raises the version by a large random number.
 */
const fs = require('node:fs');
const path = require('node:path');

class Timestamp {
  constructor(t, i) {
    this.t = t;
    this.i = i;
  }
}
class ObjectId {
  constructor(hex) {
    this.hex = hex;
  }
}
class Binary {
  constructor(b64, sub = '00') {
    this.b64 = b64;
    this.sub = sub;
  }
}

/** EJSON.stringify as mongosh's (relaxed: numbers stay numbers, dates are ISO strings). */
function ejsonStringify(v) {
  const conv = (x) => {
    if (x instanceof Date) return { $date: x.toISOString() };
    if (x instanceof Timestamp) return { $timestamp: { t: x.t, i: x.i } };
    if (x instanceof ObjectId) return { $oid: x.hex };
    if (x instanceof Binary) return { $binary: { base64: x.b64, subType: x.sub } };
    if (Array.isArray(x)) return x.map(conv);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, y]) => y !== undefined).map(([k, y]) => [k, conv(y)]));
    return x;
  };
  return JSON.stringify(conv(v));
}

/** EJSON.parse: $oid, $timestamp, $date, $binary back into types; anything else with a $ key is refused. */
function ejsonParse(text) {
  const conv = (x) => {
    if (Array.isArray(x)) return x.map(conv);
    if (x && typeof x === 'object') {
      if ('$oid' in x) return new ObjectId(x.$oid);
      if ('$timestamp' in x) return new Timestamp(x.$timestamp.t, x.$timestamp.i);
      if ('$date' in x) return new Date(typeof x.$date === 'object' ? Number(x.$date.$numberLong) : x.$date);
      if ('$binary' in x) return new Binary(x.$binary.base64, x.$binary.subType);
      return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, conv(y)]));
    }
    return x;
  };
  return conv(JSON.parse(text));
}

/** A plain-data copy for the state file ({$oid} etc. as EJSON). */
const toState = (x) => JSON.parse(ejsonStringify(x));

class ServerError extends Error {
  constructor(code, codeName, errmsg) {
    super(errmsg);
    this.name = 'MongoServerError';
    this.code = code;
    this.codeName = codeName;
    this.errmsg = errmsg;
  }
}

const STATE_NUM = { PRIMARY: 1, SECONDARY: 2, ARBITER: 7 };

class ReplSet {
  constructor(file) {
    this.file = file;
    this.s = JSON.parse(fs.readFileSync(file, 'utf8'));
    this.s.events = this.s.events || [];
  }
  save() {
    fs.writeFileSync(this.file, JSON.stringify(this.s, null, 2));
  }
  event(e) {
    this.s.events.push(`t=${this.s.now} ${e}`);
  }
  cfg(host) {
    return this.s.config.members.find((m) => m.host === host);
  }
  node(host) {
    return this.s.nodes[host];
  }
  up(host) {
    const n = this.node(host);
    return !!n && !n.down;
  }
  primary() {
    return this.s.config.members.find((m) => this.up(m.host) && this.node(m.host).state === 'PRIMARY');
  }
  electable(m) {
    const n = this.node(m.host);
    return this.up(m.host) && !m.arbiterOnly && !m.hidden && m.priority > 0 && m.votes > 0 && !(m.secondaryDelaySecs > 0) && (n.stepDownUntil || 0) <= this.s.now;
  }
  voters() {
    return this.s.config.members.filter((m) => m.votes > 0);
  }
  majorityVoteCount() {
    return Math.floor(this.voters().reduce((a, m) => a + m.votes, 0) / 2) + 1;
  }
  writeMajorityCount() {
    const dataVoters = this.voters().filter((m) => !m.arbiterOnly).length;
    return Math.min(this.majorityVoteCount(), dataVoters);
  }
  /** Advances the machine at the current virtual time. */
  tick() {
    const p = this.primary();
    const dataUp = this.s.config.members.filter((m) => !m.arbiterOnly && this.up(m.host));
    const freshest = Math.min(...dataUp.map((m) => this.node(m.host).lagSeconds || 0));
    if (!p) {
      const votesUp = this.voters().filter((m) => this.up(m.host)).reduce((a, m) => a + m.votes, 0);
      if (votesUp < this.majorityVoteCount()) return;
      if (this.s.electionAt !== undefined && this.s.electionAt !== null && this.s.now < this.s.electionAt) return;
      const cands = this.s.config.members.filter((m) => this.electable(m) && (this.node(m.host).lagSeconds || 0) === freshest);
      if (!cands.length) return;
      const win = cands.sort((a, b) => b.priority - a.priority || a._id - b._id)[0];
      this.elect(win, 'election');
      return;
    }
    // commit point of the new term
    if (this.s.lastCommitted.t !== this.s.term && this.s.now > (this.s.electedAt || 0)) {
      const replicating = this.voters().filter((m) => !m.arbiterOnly && this.up(m.host) && !this.node(m.host).stuck).length;
      if (replicating >= this.writeMajorityCount()) this.s.lastCommitted = { t: this.s.term, ts: this.s.now };
    }
    // priority takeover
    const better = this.s.config.members
      .filter((m) => m.host !== p.host && this.electable(m) && m.priority > p.priority && (this.node(m.host).lagSeconds || 0) === 0 && !this.node(m.host).stuck)
      .sort((a, b) => b.priority - a.priority || a._id - b._id)[0];
    if (!better) {
      this.s.takeover = null;
      return;
    }
    // the candidate calls the election once it has seen itself caught up and of higher priority for an election
    // timeout (heartbeats, then the takeover delay): a step-down right after a reconfiguration comes first
    const delay = ((this.s.config.settings && this.s.config.settings.electionTimeoutMillis) || 10000) / 1000;
    if (!this.s.takeover || this.s.takeover.host !== better.host) this.s.takeover = { host: better.host, since: this.s.now };
    else if (this.s.now - this.s.takeover.since >= delay) this.elect(better, `priority takeover from ${p.host}`);
  }
  elect(m, why) {
    for (const c of this.s.config.members) {
      const n = this.node(c.host);
      if (n && n.state === 'PRIMARY') n.state = 'SECONDARY';
    }
    const lag = this.node(m.host).lagSeconds || 0;
    for (const c of this.s.config.members) {
      const n = this.node(c.host);
      if (n && !c.arbiterOnly) n.lagSeconds = Math.max(0, (n.lagSeconds || 0) - lag);
    }
    this.node(m.host).state = 'PRIMARY';
    this.s.term += 1;
    this.s.electedAt = this.s.now;
    this.s.electionAt = null;
    this.s.takeover = null;
    this.event(`${m.host} elected primary in term ${this.s.term} (${why})`);
    this.tick();
  }
  /** Time passes: replication goes on (a member that is not `stuck` catches up one second per second). */
  sleep(seconds) {
    this.s.now += seconds;
    for (const m of this.s.config.members) {
      const n = this.node(m.host);
      if (n && !n.down && !n.stuck && n.state !== 'PRIMARY') n.lagSeconds = Math.max(0, (n.lagSeconds || 0) - seconds);
    }
    this.tick();
  }

  opTime(host) {
    const n = this.node(host);
    if (!n || n.down) return { ts: new Timestamp(0, 0), t: -1 };
    return { ts: new Timestamp(Math.floor(this.s.now - (n.lagSeconds || 0)), 1), t: this.s.term };
  }
  clusterTime() {
    return { clusterTime: new Timestamp(Math.floor(this.s.now), 1), signature: { hash: new Binary('AAAAAAAAAAAAAAAAAAAAAAAAAAA='), keyId: 0 } };
  }
  /** Runs one admin command on `host`; returns the reply or throws ServerError (ok: 0). */
  command(host, cmd) {
    this.tick();
    const name = Object.keys(cmd)[0];
    const fn = {
      hello: () => this.hello(host),
      replSetGetStatus: () => this.status(host),
      replSetGetConfig: () => ({ config: structuredClone(this.s.config), ok: 1, $clusterTime: this.clusterTime(), operationTime: new Timestamp(Math.floor(this.s.now), 1) }),
      replSetReconfig: () => this.reconfig(host, cmd),
      replSetStepDown: () => this.stepDown(host, cmd),
    }[name];
    if (!fn) throw new ServerError(59, 'CommandNotFound', `no such command: '${name}'`);
    const r = fn();
    this.save();
    return r;
  }
  hello(host) {
    const c = this.cfg(host);
    const n = this.node(host);
    const visible = this.s.config.members.filter((m) => !m.hidden);
    const p = this.primary();
    const isPrimary = !!p && p.host === host;
    const op = this.opTime(host);
    const lc = { ts: new Timestamp(Math.floor(this.s.lastCommitted.ts), 1), t: this.s.lastCommitted.t };
    return {
      topologyVersion: { processId: new ObjectId('6755c0ffee0000000000000' + (c._id % 10)), counter: 6 },
      hosts: visible.filter((m) => !m.arbiterOnly && m.priority > 0).map((m) => m.host),
      passives: visible.filter((m) => !m.arbiterOnly && m.priority === 0).length ? visible.filter((m) => !m.arbiterOnly && m.priority === 0).map((m) => m.host) : undefined,
      arbiters: visible.filter((m) => m.arbiterOnly).length ? visible.filter((m) => m.arbiterOnly).map((m) => m.host) : undefined,
      setName: this.s.config._id,
      setVersion: this.s.config.version,
      isWritablePrimary: isPrimary,
      secondary: n.state === 'SECONDARY',
      passive: c.priority === 0 && !c.arbiterOnly ? true : undefined,
      hidden: c.hidden ? true : undefined,
      arbiterOnly: c.arbiterOnly ? true : undefined,
      primary: p ? p.host : undefined,
      me: host,
      electionId: isPrimary ? new ObjectId('7fffffff' + String(this.s.term).padStart(16, '0')) : undefined,
      lastWrite: { opTime: op, lastWriteDate: new Date(op.ts.t * 1000), majorityOpTime: lc, majorityWriteDate: new Date(lc.ts.t * 1000) },
      maxBsonObjectSize: 16777216,
      maxMessageSizeBytes: 48000000,
      maxWriteBatchSize: 100000,
      localTime: new Date(this.s.now * 1000),
      logicalSessionTimeoutMinutes: 30,
      connectionId: 42,
      minWireVersion: 0,
      maxWireVersion: 21,
      readOnly: false,
      ok: 1,
      $clusterTime: this.clusterTime(),
      operationTime: op.ts,
    };
  }
  status(host) {
    const me = this.node(host);
    const p = this.primary();
    const lc = { ts: new Timestamp(Math.floor(this.s.lastCommitted.ts), 1), t: this.s.lastCommitted.t };
    const lcDate = new Date(this.s.lastCommitted.ts * 1000);
    const mine = this.opTime(host);
    const date = new Date(this.s.now * 1000);
    const members = this.s.config.members.map((c) => {
      const n = this.node(c.host);
      const self = c.host === host;
      const up = this.up(c.host);
      const st = up ? n.state : null;
      const op = this.opTime(c.host);
      const opDate = new Date(op.ts.t * 1000);
      const m = { _id: c._id, name: c.host, health: up ? 1 : 0, state: up ? STATE_NUM[st] : 8, stateStr: up ? st : '(not reachable/healthy)', uptime: up ? 86400 : 0 };
      if (!c.arbiterOnly) Object.assign(m, { optime: op, optimeDurable: op, optimeDate: opDate, optimeDurableDate: opDate, lastAppliedWallTime: opDate, lastDurableWallTime: opDate });
      if (!self) Object.assign(m, { lastHeartbeat: date, lastHeartbeatRecv: up ? date : new Date(0), pingMs: up ? 0 : undefined });
      const syncFrom = up && st === 'SECONDARY' && p ? p.host : '';
      Object.assign(m, {
        lastHeartbeatMessage: up ? '' : `Error connecting to ${c.host} :: caused by :: Connection refused`,
        syncSourceHost: syncFrom,
        syncSourceId: syncFrom ? this.cfg(syncFrom)._id : -1,
        infoMessage: '',
      });
      if (up && st === 'PRIMARY') Object.assign(m, { electionTime: new Timestamp(Math.floor(this.s.electedAt || this.s.now), 1), electionDate: new Date((this.s.electedAt || this.s.now) * 1000) });
      Object.assign(m, { configVersion: up ? this.s.config.version : -1, configTerm: up ? this.s.term : -1 });
      if (self) m.self = true;
      return m;
    });
    return {
      set: this.s.config._id,
      date,
      myState: STATE_NUM[me.state],
      term: this.s.term,
      syncSourceHost: me.state === 'SECONDARY' && p ? p.host : '',
      syncSourceId: me.state === 'SECONDARY' && p ? this.cfg(p.host)._id : -1,
      heartbeatIntervalMillis: 2000,
      majorityVoteCount: this.majorityVoteCount(),
      writeMajorityCount: this.writeMajorityCount(),
      votingMembersCount: this.voters().length,
      writableVotingMembersCount: this.voters().filter((m) => !m.arbiterOnly).length,
      optimes: {
        lastCommittedOpTime: lc,
        lastCommittedWallTime: lcDate,
        readConcernMajorityOpTime: lc,
        readConcernMajorityWallTime: lcDate,
        appliedOpTime: mine,
        durableOpTime: mine,
        lastAppliedWallTime: new Date(mine.ts.t * 1000),
        lastDurableWallTime: new Date(mine.ts.t * 1000),
      },
      lastStableRecoveryTimestamp: lc.ts,
      members,
      ok: 1,
      $clusterTime: this.clusterTime(),
      operationTime: mine.ts,
    };
  }
  reconfig(host, cmd) {
    const next = cmd.replSetReconfig;
    const force = cmd.force === true;
    const cur = this.s.config;
    const me = this.node(host);
    if (!force && me.state !== 'PRIMARY') throw new ServerError(10107, 'NotWritablePrimary', `replSetReconfig should only be run on a writable PRIMARY. Current state ${me.state};`);
    if (!next || next._id !== cur._id) throw new ServerError(93, 'InvalidReplicaSetConfig', `Attempting to reconfigure a replica set with name ${next && next._id}, but command line reports ${cur._id}; rejecting`);
    if (typeof next.version !== 'number' || next.version <= cur.version) throw new ServerError(103, 'NewReplicaSetConfigurationIncompatible', `New replica set configuration version must be greater than old, but ${next.version} is not greater than ${cur.version} for replica set ${cur._id}`);
    const hosts = (ms) => ms.map((m) => `${m._id}=${m.host}`).sort().join(',');
    if (hosts(next.members) !== hosts(cur.members)) throw new ServerError(103, 'NewReplicaSetConfigurationIncompatible', 'double: adding, removing or renaming members is not modelled');
    for (const m of next.members) {
      if (typeof m.priority !== 'number' || m.priority < 0 || m.priority > 1000) throw new ServerError(93, 'InvalidReplicaSetConfig', `priority field value of ${m.priority} is out of range`);
      if (m.arbiterOnly && m.priority !== 0) throw new ServerError(93, 'InvalidReplicaSetConfig', `priority must be 0 when arbiterOnly=true`);
      if (m.hidden && m.priority !== 0) throw new ServerError(93, 'InvalidReplicaSetConfig', `priority must be 0 when hidden=true`);
      if (m.votes === 0 && m.priority !== 0) throw new ServerError(93, 'InvalidReplicaSetConfig', `priority must be 0 when non-voting (votes:0)`);
    }
    const votesChanged = next.members.filter((m) => (cur.members.find((c) => c._id === m._id).votes > 0) !== (m.votes > 0)).length;
    if (!force && votesChanged > 1) throw new ServerError(103, 'NewReplicaSetConfigurationIncompatible', 'Non force replica set reconfig can only add or remove at most 1 voting member.');
    const stored = toState(next);
    stored.term = this.s.term;
    if (force) stored.version = next.version + 10000 + Math.floor(Math.random() * 90000);
    this.s.config = stored;
    this.event(`${force ? 'FORCED ' : ''}reconfig on ${host} to version ${stored.version}: ${stored.members.map((m) => `${m.host}=${m.priority}/${m.votes}`).join(', ')}`);
    if (force) this.s.electionAt = this.s.now;
    return { ok: 1, $clusterTime: this.clusterTime(), operationTime: new Timestamp(Math.floor(this.s.now), 1) };
  }
  stepDown(host, cmd) {
    const secs = typeof cmd.replSetStepDown === 'number' ? cmd.replSetStepDown : 60;
    const catchUp = cmd.secondaryCatchUpPeriodSecs ?? (cmd.force ? 0 : 10);
    if (this.node(host).state !== 'PRIMARY') throw new ServerError(10107, 'NotWritablePrimary', 'not primary so can\'t step down');
    if (secs <= catchUp) throw new ServerError(2, 'BadValue', 'stepdown period must be longer than secondaryCatchUpPeriodSecs');
    if (this.s.stepDownError) {
      const e = this.s.stepDownError;
      throw new ServerError(e.code, e.codeName, e.errmsg);
    }
    const electable = this.s.config.members.filter((m) => m.host !== host && this.electable(m) && !this.node(m.host).stuck);
    const need = electable.length ? Math.min(...electable.map((m) => this.node(m.host).lagSeconds || 0)) : Infinity;
    if (need > catchUp) {
      this.s.now += catchUp;
      throw new ServerError(262, 'ExceededTimeLimit', `No electable secondaries caught up as of ${new Date(this.s.now * 1000).toISOString()}. Please use the replSetStepDown command with the argument {force: true} to force node to step down.`);
    }
    this.s.now += need;
    for (const m of electable) {
      const n = this.node(m.host);
      n.lagSeconds = Math.max(0, (n.lagSeconds || 0) - need);
    }
    const n = this.node(host);
    n.state = 'SECONDARY';
    n.stepDownUntil = this.s.now + secs;
    this.s.electionAt = this.s.now + 1;
    this.event(`${host} stepped down for ${secs} s after ${need} s of catch-up`);
    return { ok: 1, $clusterTime: this.clusterTime(), operationTime: new Timestamp(Math.floor(this.s.now), 1) };
  }
}

/** The replica set of the fake servers dir. */
function openReplSet() {
  const dir = process.env.MONGO_DOUBLE_SERVERS;
  const file = dir && path.join(dir, 'replset.json');
  if (!file || !fs.existsSync(file)) return undefined;
  return new ReplSet(file);
}

module.exports = { ReplSet, ServerError, Timestamp, ObjectId, Binary, ejsonStringify, ejsonParse, openReplSet };
