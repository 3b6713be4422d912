mod exec;
mod fulfillment;
mod parse;
