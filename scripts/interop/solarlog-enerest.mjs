// Drives the solarlog-enerest client (src/index.js of the package beside this file) against the
// simulator on 127.0.0.1:<port>, and checks what it reads.
import SolarLogOnline from './src/index.js';

const port = process.argv[2];
const base = `http://127.0.0.1:${port}`;
const fail = (m) => { console.error(`FAIL: ${m}`); process.exit(1); };
const client = new SolarLogOnline('solarCompanyXYZ', {baseURL: base, authURL: base});

await client.login('user-advanced', 'user-advanced-secret');
// The client has no plants call; its own axios instance carries the token.
const plants = (await client.axios.get('/api/v1/solarCompanyXYZ/administration/plants')).data;
if (plants.length !== 3) fail(`user-advanced sees ${plants.length} plants, not 3`);
const plant = plants[1].id;  // two inverters
const today = new Date().toISOString().slice(0, 10);
const inverters = await client.get_inverters(plant, today);
if (inverters.length !== 2) fail(`${inverters.length} inverters, not 2`);
const combined = await client.get_combined_inverter_data(
    plant, inverters.map((i) => i.crossEpochId), today, today);
const pdc = combined[`ProdPdc_${today}`], etotal = combined[`ProdEtotal_${today}`];
if (!pdc || pdc.length < 276) fail('no 5-minute ProdPdc values for today');
const measured = etotal.filter((v) => v !== null);
for (let i = 1; i < measured.length; ++i)
  if (measured[i] < measured[i - 1]) fail('ProdEtotal goes down');
const [y, m] = [Number(today.slice(0, 4)), Number(today.slice(5, 7))];
const month = await client.get_channel_data_month(plant, y, m, ['ProdE', 'ConsE']);
if (month.length !== 2 || month[0].resolution !== 'day') fail('the month call did not give daily values');
const lifetime = await client.get_channel_data_lifetime(plant, ['ProdEtotal']);
const years = lifetime[0].dataPoints;
if (measured.length && Math.abs(years[years.length - 1] - measured[measured.length - 1]) > 1)
  fail(`lifetime ProdEtotal ${years[years.length - 1]} is not today's last ${measured[measured.length - 1]}`);
const trackers = (await client.components(plant, today)).filter((c) => c.type === 'MppTracker');
const dc = await client.channels(plant, today, today, ['Pdc', 'Udc'], trackers.map((t) => t.crossEpochId));
if (dc.length !== 2 * trackers.length) fail(`tracker values: ${dc.length} series`);
// A Basic user is refused component values with the reason.
const basic = new SolarLogOnline('solarCompanyXYZ', {baseURL: base, authURL: base});
await basic.login('user-basic', 'user-basic-secret');
try {
  await basic.crossEpochChannels(plants[0].id, [inverters[0].crossEpochId], ['ProdPdc'], today, today);
  fail('a Basic user got component values');
} catch (e) {
  if (e.response?.status !== 403) throw e;
  console.log(`user-basic: ${e.response.status} ${e.response.data.message}`);
}
console.log(`${plants.length} plants; plant ${plant}: ${inverters.length} inverters, ` +
            `${measured.length} slots today, ProdEtotal ${measured[measured.length - 1]} Wh, ` +
            `${years.length} lifetime years, ${trackers.length} trackers`);
console.log('OK');
