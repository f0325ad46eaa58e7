/** Profile commands from a tree item drawn before the profile changed: gone, or not one the command acts on. */
import { editor, fakeLog } from './vscodeFake';
import assert from 'node:assert/strict';
import { Commands } from '../../../src/constants';
import { registerProfileCommands } from '../../../src/views/profileCommands';
import { PAPER_PROFILE } from '../../../src/views/profiles';

type Services = Parameters<typeof registerProfileCommands>[0];

describe('profile commands with a stale tree item', () => {
  const practice = { id: 'fx', broker: 'oanda', environment: 'practice' } as const;
  let subscriptions: Array<{ dispose(): void }>;
  let connected: string[];
  beforeEach(() => {
    editor.reset();
    subscriptions = [];
    connected = [];
    const profiles = [PAPER_PROFILE, practice];
    registerProfileCommands({
      context: { subscriptions, secrets: {} },
      log: fakeLog(),
      profiles: {
        profiles: () => profiles,
        profile: (id: string) => profiles.find((p) => p.id === id),
        brokers: new Map(),
        connectProfile: async (id: string) => {
          connected.push(id);
          return { displayName: id };
        },
      },
    } as unknown as Services);
  });
  afterEach(() => {
    for (const d of subscriptions) d.dispose();
  });

  const run = (id: string, node: unknown): Promise<unknown> => {
    const handler = editor.commands.get(id);
    assert.ok(handler, id);
    return handler(node) as Promise<unknown>;
  };

  it('a profile removed from the settings since is named, and nothing is done with it', async () => {
    for (const id of [
      Commands.editBrokerProfile,
      Commands.setCredentials,
      Commands.connectProfile,
      Commands.testConnection,
    ])
      await run(id, { kind: 'profile', id: 'removed' });
    assert.equal(connected.length, 0);
    assert.equal(editor.toasts.length, 4);
    assert.equal(
      editor.toasts[0]?.message,
      'SPtrader: Edit Broker Profile: there is no broker profile "removed" in your settings any more (sptrader.brokerProfiles).',
    );
  });

  it('the built-in paper profile is not edited, and a profile not connected is not disconnected', async () => {
    await run(Commands.editBrokerProfile, { kind: 'profile', id: 'paper' });
    await run(Commands.disconnectProfile, { kind: 'profile', id: 'fx' });
    assert.deepEqual(
      editor.toasts.map((t) => t.message),
      [
        'SPtrader: Edit Broker Profile does not apply to the profile "paper" (the built-in paper venue).',
        'SPtrader: Disconnect does not apply to the profile "fx".',
      ],
    );
  });
});

describe('Check Connection when the venue cannot be reached', () => {
  const practice = { id: 'fx', broker: 'oanda', environment: 'practice', baseUrl: 'http://127.0.0.1:9' } as const;
  let subscriptions: Array<{ dispose(): void }>;
  let attempts: number;
  let asked: Array<{ message: string; items: readonly unknown[] }>;
  let answers: Array<string | undefined>;
  beforeEach(() => {
    editor.reset();
    subscriptions = [];
    attempts = 0;
    asked = [];
    answers = [];
    editor.answer = (message: string, items: readonly unknown[]) => {
      asked.push({ message, items });
      return answers.shift();
    };
    const profiles = [PAPER_PROFILE, practice];
    registerProfileCommands({
      context: { subscriptions, secrets: {} },
      log: fakeLog(),
      profiles: {
        profiles: () => profiles,
        profile: (id: string) => profiles.find((p) => p.id === id),
        brokers: new Map(),
        // Both credentials are stored: the check goes as far as the venue.
        credentialsFor: () => ({ get: async (key: string) => `stored-${key}` }),
        connectProfile: async () => {
          attempts++;
          throw new Error('OANDA at http://127.0.0.1:9 refused the connection (ECONNREFUSED)');
        },
      },
    } as unknown as Services);
  });
  afterEach(() => {
    for (const d of subscriptions) d.dispose();
  });

  it('says the venue could not be reached (the profile saved, nothing sent) and offers Retry, Edit Profile, Set Credentials', async () => {
    answers = ['Retry', undefined];
    const handler = editor.commands.get(Commands.testConnection);
    assert.ok(handler);
    await handler({ kind: 'profile', id: 'fx' });
    assert.equal(attempts, 2, 'Retry checked again');
    const errors = editor.toasts.filter((t) => t.level === 'error').map((t) => t.message);
    assert.equal(errors.length, 2);
    for (const message of errors) {
      assert.equal(
        message,
        'SPtrader: could not reach fx (oanda, practice): OANDA at http://127.0.0.1:9 refused the connection (ECONNREFUSED). The profile is saved as it is; nothing was sent.',
      );
      assert.doesNotMatch(message, /failed/);
    }
    assert.deepEqual(asked[0]?.items, ['Retry', 'Edit Profile', 'Set Credentials']);
  });
});
