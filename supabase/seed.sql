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
