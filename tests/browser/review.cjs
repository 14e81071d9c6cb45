// review.cjs URL DIR SHOT - drive caigen review's page in headless
// Chromium (puppeteer-core): give a name, review by keyboard, reload
// mid-way, finish; a second reviewer in a fresh browser context reviews
// two records. Prints PASS/FAIL lines; writes what the page showed to DIR
// (shown.jsonl: one {index, a, b, choice} per review) and a screenshot to
// SHOT.
'use strict';
const fs = require('fs');
const puppeteer = require('puppeteer-core');

const [url, dir, shot] = process.argv.slice(2);
let failed = 0;
function check(name, ok, why) {
  if (ok) console.log('PASS ' + name);
  else { failed++; console.log('FAIL ' + name + ': ' + (why || '')); }
}
const shown = [];

async function state(page) {
  return page.evaluate(() => ({
    done: Number(document.getElementById('progress').dataset.done || -1),
    index: document.getElementById('item').style.display === 'block' ?
      Number(document.getElementById('item').dataset.index) : -1,
    finished: document.getElementById('finished').style.display === 'block',
    a: document.getElementById('answer-a').textContent,
    b: document.getElementById('answer-b').textContent,
    login: document.getElementById('login').style.display === 'block',
    pwned: window.__pwned === 1,
  }));
}

// press a review key and wait until the page has moved on
async function review(page, key, who) {
  const before = await state(page);
  await page.keyboard.press(key);
  await page.waitForFunction(i => document.getElementById('item').dataset
    .index !== String(i) || document.getElementById('finished').style
    .display === 'block', {timeout: 10000}, before.index);
  shown.push({who, index: before.index, a: before.a, b: before.b,
    choice: {a: 'A', b: 'B', t: 'tie', s: 'skip', '1': 'A', '2': 'B',
      '0': 'tie'}[key]});
}

async function ready(page) {
  await page.waitForSelector('body[data-ready="1"]', {timeout: 10000});
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 800});
    const errors = [];
    page.on('pageerror', e => errors.push(e.message));
    await page.goto(url, {waitUntil: 'load'});
    let s = await state(page);
    check('browser_asks_name', s.login);
    // the name has a, b, t and s in it: typed into the field, they
    // must not review anything
    await page.type('#reviewer-name', 'tester bats');
    await page.keyboard.press('Enter');
    await ready(page);
    s = await state(page);
    check('browser_name_keys_not_reviews', s.done === 0, 'done ' + s.done);
    check('browser_first_item', s.index === 0, 'index ' + s.index);
    const total = await page.evaluate(() =>
      document.getElementById('progress').textContent);
    check('browser_progress_shown', /^0 \/ \d+ reviewed$/.test(total), total);
    const n = parseInt(total.split(' / ')[1], 10);
    for (const k of ['a', 'b', 't'])
      await review(page, k, 'tester bats');
    s = await state(page);
    check('browser_three_reviewed', s.done === 3 && s.index === 3,
      JSON.stringify(s));
    fs.mkdirSync(require('path').dirname(shot), {recursive: true});
    await page.screenshot({path: shot, fullPage: true});
    // reload mid-way: the name is kept and the page goes on at record 4
    await page.reload({waitUntil: 'load'});
    await ready(page);
    s = await state(page);
    check('browser_reload_keeps_name', !s.login);
    check('browser_reload_resumes', s.done === 3 && s.index === 3,
      JSON.stringify(s));
    await review(page, 's', 'tester bats');
    for (let i = 4; i < n; i++)
      await review(page, i % 2 ? '2' : '1', 'tester bats');
    s = await state(page);
    check('browser_finished', s.finished && s.done === n, JSON.stringify(s));
    check('browser_no_injected_script', !s.pwned);
    check('browser_no_page_errors', errors.length === 0, errors.join('; '));
    // going back shows the last record again
    await page.keyboard.press('ArrowLeft');
    s = await state(page);
    check('browser_back_key', s.index === n - 1, 'index ' + s.index);
    // a second reviewer, a fresh profile: starts at record 1
    const ctx = await browser.createBrowserContext();
    const p2 = await ctx.newPage();
    await p2.goto(url, {waitUntil: 'load'});
    await p2.type('#reviewer-name', 'second');
    await p2.click('#start');
    await ready(p2);
    s = await state(p2);
    check('browser_second_reviewer_fresh', s.done === 0 && s.index === 0,
      JSON.stringify(s));
    await review(p2, 'a', 'second');
    await review(p2, 'a', 'second');
    await ctx.close();
    // without the token, nothing
    const bad = await browser.newPage();
    const resp = await bad.goto(url.replace(/token=[0-9a-f]+/, 'token=x'));
    check('browser_no_token_403', resp.status() === 403, resp.status());
  } finally {
    await browser.close();
  }
  fs.writeFileSync(dir + '/shown.jsonl',
    shown.map(x => JSON.stringify(x)).join('\n') + '\n');
  process.exit(failed ? 1 : 0);
})().catch(e => { console.log('FAIL browser_driver: ' + e.message);
  process.exit(1); });
