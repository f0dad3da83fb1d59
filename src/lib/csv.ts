/**
 * Spreadsheet programs run cells that start with = + - @ (and tab/CR) as formulas: prefix them
 * with a quote so an exported value can never become a command (CSV injection).
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
