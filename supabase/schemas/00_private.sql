-- ============================================================================
-- PRIVATE: the schema for trigger functions, outside the API
-- ============================================================================

-- trigger functions live outside the API's schema: nobody can call them as RPCs
create schema if not exists private;
