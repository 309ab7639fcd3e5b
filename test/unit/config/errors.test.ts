/** loadConfig refuses a bad value with a ConfigError that names the key and where it came from. */
import { describe, test } from 'node:test'
import { join } from 'node:path'
import { tempDir, configFile, rejectsNaming } from './config-files.js'

describe('loadConfig errors name the key', () => {
  test('an unknown key in the file', async (t) => {
    const file = await configFile(t, { httpPort: 9000, htpPort: 9001 })
    await rejectsNaming({ file }, /unknown key htpPort \(did you mean httpPort\?\)/, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  })

  test('a key named like an Object.prototype member in the file is unknown too', async (t) => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      const file = await configFile(t, { [key]: 1 })
      await rejectsNaming({ file }, new RegExp(`unknown key ${key}`))
    }
  })

  test('a string where the file needs a number', async (t) => {
    const file = await configFile(t, { httpPort: '9000' })
    await rejectsNaming({ file }, /httpPort must be a whole number/, /"9000"/)
  })

  test('a fractional number where the file needs a whole number', async (t) => {
    const file = await configFile(t, { debounceMs: 1.5 })
    await rejectsNaming({ file }, /debounceMs must be a whole number/)
  })

  test('a negative history byte bound', async (t) => {
    const file = await configFile(t, { historyFactor: -1 })
    await rejectsNaming({ file }, /historyFactor must be a whole number from 0 to 1000/)
  })

  test('a number where the file needs a list', async (t) => {
    const file = await configFile(t, { bootstrap: 5 })
    await rejectsNaming({ file }, /bootstrap must be a list of strings/)
  })

  test('a list with a non-string item in the file', async (t) => {
    const file = await configFile(t, { listen: ['/ip4/0.0.0.0/tcp/1', 2] })
    await rejectsNaming({ file }, /listen must be a list of strings/)
  })

  test('a string where the file needs true or false', async (t) => {
    const file = await configFile(t, { mdns: 'false' })
    await rejectsNaming({ file }, /mdns must be true or false/)
  })

  test('an empty string for a path in the file', async (t) => {
    const file = await configFile(t, { dataDir: '' })
    await rejectsNaming({ file }, /dataDir must be a string/)
  })

  test('httpPort out of range', async (t) => {
    const file = await configFile(t, { httpPort: 70000 })
    await rejectsNaming({ file }, /httpPort must be a whole number from 0 to 65535/, /70000/)
  })

  test('priority out of range, in the file and from the environment', async (t) => {
    const file = await configFile(t, { priority: 1000001 })
    await rejectsNaming({ file }, /priority must be a whole number from -1000000 to 1000000/)
    await rejectsNaming({ env: { SPAMSYNC_PRIORITY: '-1000001' } }, /SPAMSYNC_PRIORITY/, /priority must be/)
  })

  test('a role outside the enum', async (t) => {
    const file = await configFile(t, { role: 'boss' })
    await rejectsNaming({ file }, /role must be one of auto, master, slave/, /"boss"/)
  })

  test('a bad log level from a flag, naming the flag', async () => {
    await rejectsNaming({ flags: { logLevel: 'loud' } }, /--log-level/, /logLevel must be one of debug, info, warn, error, silent/)
  })

  test('a non-number environment value, naming the variable', async () => {
    await rejectsNaming({ env: { SPAMSYNC_HTTP_PORT: 'abc' } }, /SPAMSYNC_HTTP_PORT/, /httpPort must be a whole number/, /"abc"/)
  })

  test('a number in exponent form from the environment', async () => {
    await rejectsNaming({ env: { SPAMSYNC_HTTP_PORT: '8e3' } }, /httpPort must be a whole number/)
  })

  test('a non-boolean environment value', async () => {
    await rejectsNaming({ env: { SPAMSYNC_MDNS: 'maybe' } }, /SPAMSYNC_MDNS/, /mdns must be true or false/)
  })

  test('a bad value from a flag, naming the flag', async () => {
    await rejectsNaming({ flags: { httpPort: 'eighty' } }, /--http-port/, /httpPort must be/)
  })

  test('a config file that cannot be read', async (t) => {
    const missing = join(await tempDir(t), 'missing.json')
    await rejectsNaming({ file: missing }, /cannot read config/, /missing\.json/, /ENOENT/)
  })

  test('a config file that is not JSON', async (t) => {
    const file = await configFile(t, '{ "httpPort": 80, }')
    await rejectsNaming({ file }, /cannot read config/, /spamsync\.json/)
  })

  test('a config file that is JSON but not an object', async (t) => {
    for (const content of ['[1, 2]', '"text"', '42', 'null']) {
      const file = await configFile(t, content)
      await rejectsNaming({ file }, /must be a JSON object/)
    }
  })

  test('a later valid source does not hide an error in an earlier one', async (t) => {
    const file = await configFile(t, { httpPort: 70000 })
    await rejectsNaming({ file, flags: { httpPort: '80' } }, /httpPort/)
  })
})
