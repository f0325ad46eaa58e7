/** Command, view and setting ids, spelled once; they match package.json. */
export const Commands = {
  testOrder: 'sptrader.testOrder',
  emergencyStop: 'sptrader.emergencyStop',
  resumeTrading: 'sptrader.resumeTrading',
  tradingStatus: 'sptrader.tradingStatus',
  showAuditLog: 'sptrader.showAuditLog',
  verifyAuditLog: 'sptrader.verifyAuditLog',
} as const;

export const Settings = {
  section: 'sptrader',
  interpreterPath: 'python.interpreterPath',
  packageRoot: 'python.packageRoot',
  timeoutSeconds: 'python.timeoutSeconds',
  outputLimitBytes: 'python.outputLimitBytes',
  activeProfile: 'activeProfile',
} as const;

export const OUTPUT_CHANNEL_NAME = 'SPtrader';
