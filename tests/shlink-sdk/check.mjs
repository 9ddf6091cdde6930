// Every call of Shlink's JS SDK that maps to an endpoint the compatibility table marks supported,
// against a running node: node check.mjs BASE_URL API_KEY. Exits non-zero on the first failure.
import assert from 'node:assert/strict';
import { ShlinkApiClient } from '@shlinkio/shlink-js-sdk';
import { FetchHttpClient } from '@shlinkio/shlink-js-sdk/fetch';
import { ErrorType } from '@shlinkio/shlink-js-sdk/api-contract';

const [baseUrl, apiKey] = process.argv.slice(2);
const client = new ShlinkApiClient(new FetchHttpClient(), { baseUrl, apiKey });
let calls = 0;
const call = async (name, run) => {
  calls++;
  try {
    return await run();
  } catch (e) {
    console.error(`${name} failed:`, e);
    process.exit(1);
  }
};
const refused = async (name, run, type) => {
  calls++;
  try {
    await run();
  } catch (e) {
    assert.equal(e.type, type, `${name}: ${JSON.stringify(e)}`);
    return e;
  }
  console.error(`${name} should have failed with ${type}`);
  process.exit(1);
};

const health = await call('health', () => client.health());
assert.equal(health.status, 'pass');

const created = await call('createShortUrl', () => client.createShortUrl({ longUrl: 'https://example.com/sdk', customSlug: 'sdk-link', tags: ['sdk', 'js'], title: 'From the SDK' }));
assert.equal(created.shortCode, 'sdk-link');
assert.deepEqual(created.tags, ['sdk', 'js']);
const again = await call('createShortUrl findIfExists', () => client.createShortUrl({ longUrl: 'https://example.com/sdk', findIfExists: true }));
assert.equal(again.shortCode, 'sdk-link');
await refused('createShortUrl taken slug', () => client.createShortUrl({ longUrl: 'https://example.com/other', customSlug: 'sdk-link' }), ErrorType.INVALID_SLUG);

const list = await call('listShortUrls', () => client.listShortUrls({ itemsPerPage: 5, orderBy: { field: 'dateCreated', dir: 'DESC' }, tags: ['sdk'], tagsMode: 'all', searchTerm: 'example' }));
assert.equal(list.pagination.totalItems, 1);
assert.equal(list.data[0].shortCode, 'sdk-link');

const got = await call('getShortUrl', () => client.getShortUrl({ shortCode: 'sdk-link' }));
assert.equal(got.longUrl, 'https://example.com/sdk');
const edited = await call('updateShortUrl', () => client.updateShortUrl({ shortCode: 'sdk-link' }, { title: 'Edited', maxVisits: 10 }));
assert.equal(edited.title, 'Edited');
assert.equal(edited.meta.maxVisits, 10);

const rules = await call('getShortUrlRedirectRules', () => client.getShortUrlRedirectRules({ shortCode: 'sdk-link' }));
assert.deepEqual(rules.redirectRules, []);

const visits = await call('getShortUrlVisits', () => client.getShortUrlVisits({ shortCode: 'sdk-link' }, { itemsPerPage: 5000 }));
assert.ok(Array.isArray(visits.data));
await call('getTagVisits', () => client.getTagVisits('sdk', {}));
await call('getDomainVisits', () => client.getDomainVisits('DEFAULT', {}));
await call('getNonOrphanVisits', () => client.getNonOrphanVisits({}));
const orphans = await call('getOrphanVisits', () => client.getOrphanVisits({}));
assert.equal(orphans.pagination.totalItems, 0);
const overview = await call('getVisitsOverview', () => client.getVisitsOverview());
assert.ok(overview.nonOrphanVisits.total >= 0);

const tags = await call('listTags', () => client.listTags());
assert.deepEqual(tags.data, ['js', 'sdk']);
const stats = await call('tagsStats', () => client.tagsStats());
assert.equal(stats.data.find((t) => t.tag === 'sdk').shortUrlsCount, 1);
await call('editTag', () => client.editTag({ oldName: 'js', newName: 'javascript' }));
await refused('editTag missing', () => client.editTag({ oldName: 'nope', newName: 'other' }), ErrorType.TAG_NOT_FOUND);
await call('deleteTags', () => client.deleteTags(['javascript']));
assert.deepEqual((await call('listTags', () => client.listTags())).data, ['sdk']);

const domains = await call('listDomains', () => client.listDomains());
assert.equal(domains.data[0].isDefault, true);
await refused('mercureInfo', () => client.mercureInfo(), ErrorType.MERCURE_NOT_CONFIGURED);

await call('deleteShortUrl', () => client.deleteShortUrl({ shortCode: 'sdk-link' }));
await refused('getShortUrl deleted', () => client.getShortUrl({ shortCode: 'sdk-link' }), ErrorType.INVALID_SHORTCODE);

console.log(`ok ${calls} calls`);
