-- ============================================================================
-- SEED: reference data every deployment starts with. Idempotent: re-running
-- it adds what is missing and leaves edited rows alone.
-- ============================================================================

-- ----------------------------------------------------------------------------
-- Districts: Milan's nine municipi (source: Comune di Milano, checked 2026-11-23)
-- ----------------------------------------------------------------------------
insert into public.districts (code, name, city, sort_order) values
  ('milano-1', 'Municipio 1 – Centro storico', 'Milano', 1),
  ('milano-2', 'Municipio 2 – Stazione Centrale, Gorla, Turro, Greco, Crescenzago', 'Milano', 2),
  ('milano-3', 'Municipio 3 – Città Studi, Lambrate, Venezia', 'Milano', 3),
  ('milano-4', 'Municipio 4 – Vittoria, Forlanini', 'Milano', 4),
  ('milano-5', 'Municipio 5 – Vigentino, Chiaravalle, Gratosoglio', 'Milano', 5),
  ('milano-6', 'Municipio 6 – Barona, Lorenteggio', 'Milano', 6),
  ('milano-7', 'Municipio 7 – Baggio, De Angeli, San Siro', 'Milano', 7),
  ('milano-8', 'Municipio 8 – Fiera, Gallaratese, Quarto Oggiaro', 'Milano', 8),
  ('milano-9', 'Municipio 9 – Porta Garibaldi, Niguarda', 'Milano', 9)
on conflict (code) do nothing;

-- ----------------------------------------------------------------------------
-- The calendar: national vaccination calendar 0–6 (PNPV 2023–2025, adopted in
-- Lombardy by DGR XII/3030, Sep 2024) and the Lombardy check-ups ("bilanci di
-- salute"). Offsets from the birth in completed time; coordinators edit rows.
-- ----------------------------------------------------------------------------
insert into public.care_items (code, kind, group_key, dose, name_it, offset_months, offset_days, window_days, min_gap_days, mandatory, verified, source, checked_on) values
  ('hexa-1', 'vaccine', 'hexa', 1, 'Esavalente (DTaP-IPV-HBV-Hib), 1ª dose', 0, 61, 30, null, true, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('hexa-2', 'vaccine', 'hexa', 2, 'Esavalente (DTaP-IPV-HBV-Hib), 2ª dose', 0, 121, 30, null, true, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('hexa-3', 'vaccine', 'hexa', 3, 'Esavalente (DTaP-IPV-HBV-Hib), 3ª dose', 0, 301, 60, null, true, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('pcv-1', 'vaccine', 'pcv', 1, 'Pneumococco coniugato, 1ª dose', 0, 61, 30, null, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('pcv-2', 'vaccine', 'pcv', 2, 'Pneumococco coniugato, 2ª dose', 0, 121, 30, null, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('pcv-3', 'vaccine', 'pcv', 3, 'Pneumococco coniugato, 3ª dose', 0, 301, 60, null, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('rota-1', 'vaccine', 'rota', 1, 'Rotavirus (orale), 1ª dose', 0, 61, 21, null, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('rota-2', 'vaccine', 'rota', 2, 'Rotavirus (orale), 2ª dose (entro la 24ª settimana)', 0, 91, 77, 28, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('menb-1', 'vaccine', 'menb', 1, 'Meningococco B, 1ª dose', 0, 76, 30, null, false, false, 'PNPV 2023–2025 (giorni esatti in Lombardia da verificare)', '2026-11-23'),
  ('menb-2', 'vaccine', 'menb', 2, 'Meningococco B, 2ª dose', 0, 151, 30, 60, false, false, 'PNPV 2023–2025 (giorni esatti in Lombardia da verificare)', '2026-11-23'),
  ('menb-3', 'vaccine', 'menb', 3, 'Meningococco B, richiamo (13–15 mesi)', 13, 0, 60, null, false, false, 'PNPV 2023–2025 (giorni esatti in Lombardia da verificare)', '2026-11-23'),
  ('menacwy-1', 'vaccine', 'menacwy', 1, 'Meningococco ACWY', 12, 0, 60, null, false, true, 'PNPV 2023–2025; DGR Lombardia XII/3030', '2026-11-23'),
  ('mmrv-1', 'vaccine', 'mmrv', 1, 'MPRV (morbillo, parotite, rosolia, varicella), 1ª dose', 12, 0, 60, null, true, true, 'PNPV 2023–2025; L. 119/2017', '2026-11-23'),
  ('mmrv-2', 'vaccine', 'mmrv', 2, 'MPRV (morbillo, parotite, rosolia, varicella), 2ª dose', 60, 0, 365, null, true, true, 'PNPV 2023–2025; L. 119/2017', '2026-11-23'),
  ('dtap-ipv-4', 'vaccine', 'dtap_ipv', 4, 'Richiamo DTaP-IPV (5–6 anni)', 60, 0, 365, null, true, true, 'PNPV 2023–2025; L. 119/2017', '2026-11-23'),
  ('checkup-1', 'checkup', 'checkup', 1, 'Bilancio di salute 1–45 giorni', 0, 1, 44, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-2', 'checkup', 'checkup', 2, 'Bilancio di salute 60–90 giorni', 0, 60, 30, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-3', 'checkup', 'checkup', 3, 'Bilancio di salute 4–6 mesi', 4, 0, 61, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-4', 'checkup', 'checkup', 4, 'Bilancio di salute 7–9 mesi', 7, 0, 61, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-5', 'checkup', 'checkup', 5, 'Bilancio di salute 10–12 mesi', 10, 0, 61, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-6', 'checkup', 'checkup', 6, 'Bilancio di salute 15–18 mesi', 15, 0, 92, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-7', 'checkup', 'checkup', 7, 'Bilancio di salute 24–36 mesi', 24, 0, 365, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('checkup-8', 'checkup', 'checkup', 8, 'Bilancio di salute 5–6 anni', 60, 0, 365, null, false, false, 'Bilanci di salute Lombardia (accordo regionale da verificare)', '2026-11-23'),
  ('preg-prepare', 'pregnancy', 'preg_prepare', 1, 'Gravidanza: prepararsi alla nascita (registrazione, codice fiscale, pediatra)', 0, -30, 30, null, false, true, 'Programma; italy.md (pediatra, primo bilancio 1–45 giorni)', '2026-11-23'),
  ('preg-born-1', 'pregnancy', 'preg_born', 1, 'Gravidanza: chiedere la data di nascita', 0, 0, 14, null, false, true, 'Programma', '2026-11-23'),
  ('preg-born-2', 'pregnancy', 'preg_born', 2, 'Gravidanza: chiedere di nuovo la data di nascita', 0, 14, 30, null, false, true, 'Programma', '2026-11-23')
on conflict (code) do nothing;

-- ----------------------------------------------------------------------------
-- Services directory: the citywide lines every family can use (italy.md,
-- "Numbers and services"). Coordinators add the local services of each
-- district with `npm run import -- services file.csv`.
-- ----------------------------------------------------------------------------
insert into public.services (name, category, district_code, address, hours, phone, languages, unverified, source) values
  ('1522 – Numero antiviolenza e stalking (anche chat e app)', 'protection', null, null, '24/7', '1522', '{it,en,fr,es,ar,fa,sq,ru,uk,pt,pl}', false, 'italy.md: 1522 (checked 2026-11-23)'),
  ('114 – Emergenza Infanzia (anche chat)', 'protection', null, null, '24/7', '114', '{it}', false, 'italy.md: 114 (checked 2026-11-23)'),
  ('Comune di Milano – informazioni nido e servizi', 'education', null, null, null, '02 02 02', '{it}', false, 'italy.md: nido helpline (checked 2026-11-23)'),
  ('INPS – contact center (bonus nido, Assegno Unico)', 'documents', null, null, null, '803 164', '{it}', true, 'INPS contact centre, free from a landline (unverified)')
on conflict (name, coalesce(district_code, '')) do nothing;

-- ----------------------------------------------------------------------------
-- Calls and measures (italy.md, "Asilo nido in Milan" and "Public housing in
-- Lombardy"). The 2027/28 nido window is estimated from the 2026/27 one (4–25
-- February 2026) and marked unverified until the Comune publishes it. SAP
-- calls ("avvisi") open per district several times a year: coordinators add
-- each with `npm run import -- calls file.csv`.
-- ----------------------------------------------------------------------------
insert into public.calls (code, kind, title_it, opens_on, closes_on, districts, child_min_months, child_max_months, age_on, isee_max, residence, permit, documents, apply_how, apply_url, source, checked_on, unverified) values
  ('nido-2027', 'nido', 'Iscrizioni nidi d''infanzia 2027/28', '2027-02-03', '2027-02-24', '{}', 3, 36, '2027-09-01', null, 'milan', null,
   '{spid,codice_fiscale,id_document,isee_minors,vaccinations}', '{online_spid}', 'https://www.comune.milano.it',
   'italy.md: Asilo nido in Milan (2026/27 window 4–25 Feb 2026; 2027/28 dates estimated)', '2026-11-23', true),
  ('primavera-2027', 'primavera', 'Sezioni primavera 2027/28', '2027-02-03', '2027-02-24', '{}', 24, 36, '2027-09-01', null, 'milan', null,
   '{spid,codice_fiscale,id_document,isee_minors,vaccinations}', '{online_spid}', 'https://www.comune.milano.it',
   'italy.md: Asilo nido in Milan (sezioni primavera 24–36 months; dates estimated)', '2026-11-23', true),
  ('bonus-nido', 'bonus_nido', 'Bonus asilo nido INPS', null, null, '{}', 0, 36, null, null, null, null,
   '{spid,codice_fiscale,isee_minors,receipts}', '{inps,caf}', 'https://www.inps.it',
   'italy.md: INPS Bonus asilo nido (children under 36 months; amount by ISEE minorenni)', '2026-11-23', false),
  ('nidi-gratis', 'nidi_gratis', 'Nidi Gratis Regione Lombardia', null, null, '{}', 0, 36, null, 25000, 'lombardy', null,
   '{spid,isee_minors,receipts}', '{online_spid,caf}', 'https://www.bandi.regione.lombardia.it',
   'italy.md: Nidi Gratis 2025/26 (ISEE ≤ 20,000 fully, 20,000–25,000 up to €100/month; autumn window and Milan''s participation unverified)', '2026-11-23', true),
  ('sat-milano', 'sat', 'Servizi abitativi transitori (SAT) – Milano', null, null, '{}', null, null, null, 16000, 'milan', 'sap',
   '{id_document,permit,isee,eviction_notice,lease}', '{sicet,desk}', null,
   'italy.md: SAT (SAP requirements; eviction, foreclosure or disaster; up to 12 months, renewable once)', '2026-11-23', false),
  ('affitto-unica', 'rent_support', 'Misura Unica affitto', null, null, '{}', null, null, null, 26000, 'lombardy', null,
   '{isee,lease,id_document,permit}', '{caf,sicet}', null,
   'italy.md: Misura Unica affitto (ISEE ≤ 26,000, registered lease, up to €3,600 to the landlord; current edition unverified)', '2026-11-23', true),
  ('morosita', 'arrears', 'Fondo morosità incolpevole', null, null, '{}', null, null, null, 26000, 'lombardy', null,
   '{isee,lease,eviction_notice,id_document,work_proof}', '{sicet,desk}', null,
   'italy.md: morosità incolpevole fund (ISEE ≤ 26,000; current edition unverified)', '2026-11-23', true),
  ('doti', 'dote', 'Doti per le famiglie del programma', null, null, '{}', null, null, null, null, null, null,
   '{isee,id_document}', '{tutor}', null,
   'italy.md: the programme''s interventions (housing: use of "doti"); amounts and rules from the tutor', '2026-11-23', true)
on conflict (code) do nothing;
